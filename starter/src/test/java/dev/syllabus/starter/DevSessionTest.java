package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The day on a laptop: {@code syllabus dev} in one terminal; {@code run}, {@code pause}, {@code
 * status}, {@code resume}, {@code advance} in another, against the real tiny trainer.
 */
@Timeout(300)
class DevSessionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path home;
  private Cli cli;
  private DevInThread dev;
  private String address;

  @BeforeEach
  void startDev() throws Exception {
    cli = new Cli(home);
    dev = DevInThread.start(cli);
    address = dev.address;
  }

  @AfterEach
  void stopDev() throws Exception {
    dev.close();
  }

  /** Starts run x of the demo with a slower first phase, so there is time to act on it. */
  private Cli.Result startSlowDemo(String... overrides) {
    List<String> all = new ArrayList<>(List.of("phases[easy].config.step_pause_ms=40"));
    all.addAll(List.of(overrides));
    return dev.runDemo(cli, "x", all.toArray(String[]::new));
  }

  @Test
  void pauseResumeAndAdvanceFromASecondTerminal() throws Exception {
    Cli.Result run = startSlowDemo();
    assertEquals("x", run.out().strip());

    JsonNode running = awaitStatus("easy trains", s -> phase(s, 0).get("step").asLong() > 50);
    assertEquals("RUNNING", running.get("state").asText());

    Cli.Result pause = cli.run("pause", "x", "--reason", "need the CPU", "--address", address);
    assertEquals(0, pause.exitCode(), pause.err());
    // pause answers once the job is gone, with the checkpoint it resumes from.
    Path job = home.resolve("runs/x/0-easy/jobs/x-0-easy-1");
    assertTrue(Files.exists(job.resolve("exit")), "the trainer process has exited");
    JsonNode paused = status();
    assertEquals("PAUSED", paused.get("state").asText());
    assertEquals("PAUSED", phase(paused, 0).get("state").asText());
    long checkpoint = phase(paused, 0).get("checkpoint").asLong();
    assertTrue(Files.isDirectory(home.resolve("runs/x/0-easy/checkpoint-" + checkpoint)));
    assertEquals(
        "paused x: phase 'easy' stopped at its checkpoint of step "
            + checkpoint
            + ", which it resumes from; its job is gone and its GPUs are free",
        pause.out().strip());
    long pausedAt = paused.get("step").asLong();

    Cli.Result again = cli.run("pause", "x", "--address", address);
    assertEquals(1, again.exitCode());
    assertEquals(
        "syllabus: pause refused: run x is already paused; `syllabus resume x` resumes it",
        again.err().strip());

    Cli.Result resume = cli.run("resume", "x", "--address", address);
    assertEquals(0, resume.exitCode(), resume.err());
    assertEquals(
        "resumed x: phase 'easy' runs again from its checkpoint of step " + checkpoint,
        resume.out().strip());
    Cli.Result resumeAgain = cli.run("resume", "x", "--address", address);
    assertEquals(1, resumeAgain.exitCode());
    assertEquals("syllabus: resume refused: run x is not paused", resumeAgain.err().strip());
    awaitStatus(
        "easy trains again",
        s ->
            s.get("state").asText().equals("RUNNING")
                && phase(s, 0).get("state").asText().equals("RUNNING")
                && s.get("step").asLong() > pausedAt);
    String log = Files.readString(job.resolve("output.log"));
    assertEquals(
        1, log.lines().filter(l -> l.startsWith("syllabus: starting x-0-easy-1")).count(), log);
    assertEquals(
        1, log.lines().filter(l -> l.startsWith("syllabus: resuming x-0-easy-1")).count(), log);

    Cli.Result advance = cli.run("advance", "x", "--address", address, "--json");
    assertEquals(0, advance.exitCode(), advance.err());
    JsonNode advanced = JSON.readTree(advance.out());
    assertEquals("ADVANCED", advanced.get("phaseState").asText());
    JsonNode done =
        awaitStatus("the run completes", s -> s.get("state").asText().equals("COMPLETED"));
    assertEquals(phase(done, 0).at("/artifacts/model"), advanced.at("/artifacts/model"));

    Cli.Result skip = cli.run("skip", "x", "--address", address);
    assertEquals(1, skip.exitCode());
    // A COMPLETED run may still be writing its record: then the run itself refuses the skip
    // ("skip refused: run x has ended (COMPLETED); there is nothing to skip"); once it has closed,
    // the command does ("run x has already ended (COMPLETED)").
    assertTrue(
        skip.err().strip().startsWith("syllabus: ")
            && skip.err().contains("run x has")
            && skip.err().contains("ended (COMPLETED)"),
        skip.err());

    assertEquals("ADVANCED", phase(done, 0).get("state").asText());
    assertEquals("COMPLETED", phase(done, 1).get("state").asText());
    assertEquals("COMPLETED", phase(done, 2).get("state").asText());
    JsonNode easyModel = phase(done, 0).at("/artifacts/model");
    assertTrue(easyModel.get("step").asLong() < 900, easyModel.toString());
    JsonNode mediumState =
        JSON.readTree(
            home.resolve("runs")
                .resolve(phase(done, 1).at("/artifacts/model/path").asText())
                .resolve("trainer_state.json")
                .toFile());
    assertEquals(
        home.resolve("runs").resolve(easyModel.get("path").asText()).toString(),
        mediumState.at("/syllabus/input_model").asText());
    assertEquals(3000, done.get("step").asLong());
    assertEquals(1.0, done.get("t").asDouble());
  }

  @Test
  void aRunCarriesOnAcrossARestartOfDevAndItsJobKeepsRunning() throws Exception {
    RealTemporal.binary(); // dev keeps runs across restarts only on the Temporal CLI's server
    startSlowDemo();
    awaitStatus("easy trains", s -> phase(s, 0).get("step").asLong() > 50);

    stopDev(); // as Ctrl-C: the worker and the server stop
    Path job = home.resolve("runs/x/0-easy/jobs/x-0-easy-1");
    long pid = Long.parseLong(Files.readString(job.resolve("pid")).split("\\s+")[0]);
    assertTrue(
        ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
        "the job trains on while dev is down");

    startDev(); // on the same $SYLLABUS_HOME, so the same dev.db
    JsonNode end = awaitStatus("the run ends", s -> s.get("state").asText().equals("COMPLETED"));
    assertEquals(3000, end.get("step").asLong());
    String log = Files.readString(job.resolve("output.log"));
    assertEquals(1, log.lines().filter(l -> l.startsWith("syllabus: starting x-0-easy-1")).count());
    assertEquals(0, log.lines().filter(l -> l.startsWith("syllabus: restarting")).count(), log);
  }

  @Test
  void noWaitSendsASignalAndAnAdvanceBeforeTheFirstCheckpointIsRefused() throws Exception {
    startSlowDemo("phases[easy].config.save_steps=900");
    awaitStatus("easy trains", s -> phase(s, 0).get("step").asLong() > 0);

    Cli.Result advance = cli.run("advance", "x", "--address", address);
    assertEquals(1, advance.exitCode(), advance.out());
    assertEquals(
        "syllabus: advance refused: phase 'easy' of run x has not saved a complete checkpoint yet, so there"
            + " is nothing to hand on; wait for its first checkpoint, or skip it",
        advance.err().strip());

    Cli.Result pause = cli.run("pause", "x", "--no-wait", "--address", address);
    assertEquals(0, pause.exitCode(), pause.err());
    assertEquals("pause sent to x", pause.out().strip());
    awaitStatus("easy is paused", s -> phase(s, 0).get("state").asText().equals("PAUSED"));
    Cli.Result cancel = cli.run("cancel", "x", "--address", address);
    assertEquals(0, cancel.exitCode(), cancel.err());
  }

  @Test
  void signalsToAnUnknownRunAreBadInput() {
    Cli.Result pause = cli.run("pause", "nope", "--address", address);
    assertEquals(2, pause.exitCode());
    assertEquals("no run 'nope' in namespace default", pause.err().strip());
  }

  private static JsonNode phase(JsonNode status, int index) {
    return status.get("phases").get(index);
  }

  private JsonNode status() throws Exception {
    Cli.Result status = cli.run("status", "x", "--json", "--address", address);
    assertEquals(0, status.exitCode(), status.err());
    return JSON.readTree(status.out());
  }

  private JsonNode awaitStatus(String what, Predicate<JsonNode> condition) throws Exception {
    JsonNode[] last = new JsonNode[1];
    DevInThread.eventually(
        what,
        Duration.ofSeconds(120),
        () -> {
          Cli.Result status = cli.run("status", "x", "--json", "--address", address);
          if (status.exitCode() != 0) {
            return false;
          }
          last[0] = JSON.readTree(status.out());
          return condition.test(last[0]);
        });
    return last[0];
  }
}
