package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus logs} on the local backend, as from a second terminal beside {@code syllabus
 * dev}: a finished phase's trainer output, a running one's followed to its end, and bad input.
 */
@Timeout(300)
class LogsCommandTest {
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
    if (dev != null) {
      dev.close();
    }
  }

  @Test
  void aFinishedPhasePrintsItsTrainersOutput() throws Exception {
    run(
        "x",
        "phases[easy].config.step_pause_ms=0",
        "phases[medium].config.step_pause_ms=0",
        "phases[hard].config.step_pause_ms=0");
    awaitStatus("x completes", "x", s -> s.get("state").asText().equals("COMPLETED"));

    Cli.Result easy = cli.run("logs", "x", "--phase", "easy", "--address", address);
    assertEquals(0, easy.exitCode(), easy.err());
    Path log = home.resolve("runs/x/0-easy/jobs/x-0-easy-1/output.log");
    assertEquals(Files.readString(log), easy.out());
    assertTrue(easy.out().startsWith("syllabus: starting x-0-easy-1"), easy.out());
    assertTrue(easy.out().contains("{'loss': "), easy.out());

    // The run has ended: its last phase is the one shown by default.
    Cli.Result last = cli.run("logs", "x", "--tail", "1", "--address", address);
    assertEquals(0, last.exitCode(), last.err());
    assertTrue(last.out().matches("syllabus-tiny: done, 1050 steps, eval_loss=.*\n"), last.out());

    // With its Temporal gone (as after `demo`), the run's record says which job ran.
    dev.close();
    dev = null;
    Cli.Result afterwards = cli.run("logs", "x", "--phase", "medium", "--address", address);
    assertEquals(0, afterwards.exitCode(), afterwards.err());
    assertEquals(
        Files.readString(home.resolve("runs/x/1-medium/jobs/x-1-medium-1/output.log")),
        afterwards.out());
    Cli.Result unknown = cli.run("logs", "nope", "--address", address);
    assertEquals(1, unknown.exitCode(), "no record: Temporal's absence is the answer");
  }

  @Test
  void followingTheRunningPhaseStreamsUntilItsJobEnds() throws Exception {
    run("y", "phases[easy].config.step_pause_ms=15");
    awaitStatus("easy trains", "y", s -> s.at("/phases/0/step").asLong() > 0);
    Path job = home.resolve("runs/y/0-easy/jobs/y-0-easy-1");
    assertTrue(Files.notExists(job.resolve("exit")), "easy still runs");

    Cli.Result follow = cli.run("logs", "y", "--follow", "--address", address);

    assertEquals(0, follow.exitCode(), follow.err());
    assertTrue(Files.exists(job.resolve("exit")), "returned once the job ended");
    assertEquals(Files.readString(job.resolve("output.log")), follow.out());
    assertTrue(follow.out().contains("syllabus-tiny: done, 900 steps"), follow.out());
  }

  @Test
  void anUnknownRunPhaseOrWorkloadIsBadInput() throws Exception {
    Cli.Result run = cli.run("logs", "nope", "--address", address);
    assertEquals(2, run.exitCode());
    assertEquals("no run 'nope' in namespace default", run.err().strip());

    run(
        "z",
        "phases[easy].config.step_pause_ms=0",
        "phases[medium].config.step_pause_ms=0",
        "phases[hard].config.step_pause_ms=0");
    awaitStatus("z completes", "z", s -> s.get("state").asText().equals("COMPLETED"));
    Cli.Result phase = cli.run("logs", "z", "--phase", "grpo", "--address", address);
    assertEquals(2, phase.exitCode());
    assertEquals(
        "--phase: run z has no phase 'grpo'; its phases: easy, medium, hard", phase.err().strip());
    Cli.Result workload =
        cli.run("logs", "z", "--phase", "easy", "--workload", "vllm", "--address", address);
    assertEquals(2, workload.exitCode());
    assertEquals(
        "--workload: phase 'easy' (tiny/train) has no workload 'vllm'; its workloads: trainer",
        workload.err().strip());
  }

  private void run(String id, String... overrides) {
    dev.runDemo(cli, id, overrides);
  }

  private void awaitStatus(String what, String id, Predicate<JsonNode> condition) throws Exception {
    DevInThread.eventually(
        what,
        Duration.ofSeconds(120),
        () -> {
          Cli.Result status = cli.run("status", id, "--json", "--address", address);
          return status.exitCode() == 0 && condition.test(JSON.readTree(status.out()));
        });
  }
}
