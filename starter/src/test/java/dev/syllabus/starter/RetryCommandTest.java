package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import dev.syllabus.workflows.RetryOf;
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
 * {@code syllabus retry} against {@code syllabus dev} and the real tiny trainer: a demo run stopped
 * in its second phase is run again from that phase, from the first phase's checkpoint in the store,
 * and completes; what cannot be retried is refused with one line and exit code 2.
 */
@Timeout(300)
class RetryCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path home;
  private Cli cli;
  private DevInThread dev;
  private String address;

  @BeforeEach
  void startDev() throws Exception {
    cli = new Cli(home);
    dev = DevInThread.start(cli);
    address = dev.address();
  }

  @AfterEach
  void stopDev() throws Exception {
    dev.close();
  }

  @Test
  void aRunStoppedInItsSecondPhaseIsRetriedFromThereAndCompletes() throws Exception {
    Cli.Result run =
        cli.run(
            "run",
            "recipes/demo.yaml",
            "--id",
            "x",
            "--address",
            address,
            "--set",
            "phases[medium].config.step_pause_ms=15");
    assertEquals(0, run.exitCode(), run.err());
    awaitStatus("x", "medium trains", s -> phase(s, 1).get("step").asLong() > 950);
    Cli.Result cancel = cli.run("cancel", "x", "--address", address);
    assertEquals(0, cancel.exitCode(), cancel.err());
    JsonNode canceled = awaitStatus("x", "x ends", s -> s.get("state").asText().equals("CANCELED"));
    assertEquals("CANCELED", phase(canceled, 1).get("state").asText());

    Cli.Result retry = cli.run("retry", "x", "--wait", "--json", "--address", address);

    assertEquals(0, retry.exitCode(), retry.err());
    assertTrue(retry.out().startsWith("x-retry-1\n"), retry.out());
    assertTrue(
        retry
            .err()
            .contains(
                "syllabus: retrying x from phase 1 'medium', starting from model"
                    + " x/0-easy/checkpoint-900"),
        retry.err());
    JsonNode done = JSON.readTree(retry.out().substring("x-retry-1\n".length()));
    assertEquals("COMPLETED", done.get("state").asText());
    assertEquals(phase(canceled, 0), phase(done, 0), "easy as it ended in x");
    assertEquals("COMPLETED", phase(done, 1).get("state").asText());
    assertEquals("COMPLETED", phase(done, 2).get("state").asText());
    assertEquals(3000, done.get("step").asLong());
    Path runs = home.resolve("runs");
    assertFalse(Files.exists(runs.resolve("x-retry-1/0-easy")), "easy did not run again");
    JsonNode medium =
        JSON.readTree(
            runs.resolve(phase(done, 1).at("/artifacts/model/path").asText())
                .resolve("trainer_state.json")
                .toFile());
    assertEquals(
        runs.resolve("x/0-easy/checkpoint-900").toString(),
        medium.at("/syllabus/input_model").asText());

    JsonNode lineage = JSON.readTree(runs.resolve("x-retry-1/lineage.json").toFile());
    assertTrue(
        lineage.get("artifacts").toString().contains("x/0-easy/checkpoint-900"),
        "the new run's lineage names x's checkpoint as an input: " + lineage);

    JsonNode record = JSON.readTree(runs.resolve("x-retry-1/record.json").toFile());
    assertEquals("REUSED", record.at("/phases/0/state").asText(), record.toString());
    assertEquals("x", record.at("/retryOf/runId").asText(), record.toString());
    assertEquals("COMPLETED", record.at("/phases/1/state").asText(), record.toString());

    Cli.Result again = cli.run("retry", "x", "--address", address);
    assertEquals(0, again.exitCode(), again.err());
    assertEquals("x-retry-2", again.out().strip());
    awaitStatus("x-retry-2", "x-retry-2 ends", s -> s.get("state").asText().equals("COMPLETED"));
  }

  @Test
  void aPhaseThatFailedOnItsConfigIsRetriedWithTheConfigFixed() throws Exception {
    Cli.Result run =
        cli.run(
            "run",
            "recipes/demo.yaml",
            "--id",
            "z",
            "--address",
            address,
            "--set",
            "phases[medium].config.batch_size=0");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode failed = awaitStatus("z", "z fails", s -> s.get("state").asText().equals("FAILED"));
    assertEquals("FAILED", phase(failed, 1).get("state").asText());

    assertRefused(
        "--set: phase 0 'easy' ran in the earlier run; a retry from phase 1 may only change that"
            + " phase and the ones after it",
        cli.run("retry", "z", "--set", "phases[easy].config.seed=1", "--address", address));
    Cli.Result retry =
        cli.run(
            "retry",
            "z",
            "--set",
            "phases[medium].config.batch_size=32",
            "--wait",
            "--json",
            "--address",
            address);

    assertEquals(0, retry.exitCode(), retry.err());
    JsonNode done = JSON.readTree(retry.out().substring("z-retry-1\n".length()));
    assertEquals("COMPLETED", done.get("state").asText());
    assertEquals(phase(failed, 0), phase(done, 0));
    assertEquals("COMPLETED", phase(done, 1).get("state").asText());
  }

  @Test
  void aRunThisTemporalNeverKnewIsRetriedFromItsRecord() throws Exception {
    Cli.Result run =
        cli.run(
            "run",
            "recipes/demo.yaml",
            "--id",
            "w",
            "--address",
            address,
            "--set",
            "phases[easy].config.step_pause_ms=0",
            "--set",
            "phases[medium].config.batch_size=0");
    assertEquals(0, run.exitCode(), run.err());
    awaitStatus("w", "w fails", s -> s.get("state").asText().equals("FAILED"));
    // Another Temporal, as after `demo`, whose Temporal ends with it: only the record is left.
    dev.close();
    deleteTree(home.resolve("temporal"));
    dev = DevInThread.start(cli);
    address = dev.address();

    Cli.Result retry =
        cli.run(
            "retry",
            "w",
            "--set",
            "phases[medium].config.batch_size=32",
            "--wait",
            "--json",
            "--address",
            address);

    assertEquals(0, retry.exitCode(), retry.err());
    assertTrue(
        retry.err().contains("run w is not known to this Temporal; retrying it from "),
        retry.err());
    JsonNode done = JSON.readTree(retry.out().substring("w-retry-1\n".length()));
    assertEquals("COMPLETED", done.get("state").asText());
    assertEquals("COMPLETED", phase(done, 1).get("state").asText());
    RunRecord record = RunRecords.read(RunRecords.fileOf(home.resolve("runs"), "w-retry-1"));
    assertEquals(new RetryOf("w", "medium"), record.retryOf());
    assertEquals("REUSED", record.phases().get(0).state());
    assertEquals("w/0-easy/checkpoint-900", record.phases().get(0).output().model().path());
  }

  @Test
  void whatCannotBeRetriedIsRefusedAndNothingStarts() throws Exception {
    assertRefused(
        "no run 'nope' in namespace default", cli.run("retry", "nope", "--address", address));

    Cli.Result run =
        cli.run(
            "run",
            "recipes/demo.yaml",
            "--id",
            "y",
            "--address",
            address,
            "--set",
            "phases[medium].config.step_pause_ms=15");
    assertEquals(0, run.exitCode(), run.err());
    awaitStatus("y", "medium trains", s -> phase(s, 1).get("step").asLong() > 950);
    assertRefused(
        "run y is RUNNING; retry a run once it has failed or was canceled (`syllabus cancel y` ends"
            + " it)",
        cli.run("retry", "y", "--address", address));
    assertEquals(0, cli.run("cancel", "y", "--address", address).exitCode());
    awaitStatus("y", "y ends", s -> s.get("state").asText().equals("CANCELED"));

    assertRefused(
        "--from: no phase 'harder' in recipe demo (phases: easy, medium, hard)",
        cli.run("retry", "y", "--from", "harder", "--address", address));
    assertRefused(
        "phase 1 'medium' of run y did not hand anything on (CANCELED); retry from it or from an"
            + " earlier phase",
        cli.run("retry", "y", "--from", "hard", "--address", address));
    assertRefused(
        "--id: run id 'Y2' must be lower-case letters, digits and '-', starting with a letter and"
            + " ending with a letter or digit",
        cli.run("retry", "y", "--id", "Y2", "--address", address));
    assertRefused(
        "--id: a run 'y' already exists; run ids are never reused, pick another",
        cli.run("retry", "y", "--id", "y", "--address", address));

    Path checkpoint = home.resolve("runs/y/0-easy/checkpoint-900");
    Files.writeString(checkpoint.resolve("extra.bin"), "changed");
    assertRefused(
        "the model to start from has changed since it was handed on (its digest is not ",
        cli.run("retry", "y", "--address", address));
    Files.delete(checkpoint.resolve("trainer_state.json"));
    assertRefused(
        "the model to start from is incomplete (no readable trainer_state.json): " + checkpoint,
        cli.run("retry", "y", "--address", address));
    deleteTree(checkpoint);
    assertRefused(
        "the model to start from is missing: " + checkpoint,
        cli.run("retry", "y", "--address", address));

    Cli.Result none = cli.run("status", "y-retry-1", "--address", address);
    assertEquals(2, none.exitCode(), "no retry was started: " + none.out());
  }

  private static void assertRefused(String start, Cli.Result result) {
    assertEquals(2, result.exitCode(), result.out() + result.err());
    assertTrue(result.err().startsWith(start), result.err());
    assertEquals(1, result.err().strip().lines().count(), result.err());
    assertEquals("", result.out());
  }

  private static void deleteTree(Path root) throws Exception {
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static JsonNode phase(JsonNode status, int index) {
    return status.get("phases").get(index);
  }

  private JsonNode awaitStatus(String run, String what, Predicate<JsonNode> condition)
      throws Exception {
    JsonNode[] last = new JsonNode[1];
    eventually(
        what,
        Duration.ofSeconds(120),
        () -> {
          Cli.Result status = cli.run("status", run, "--json", "--address", address);
          if (status.out().isBlank()) {
            return false;
          }
          last[0] = JSON.readTree(status.out());
          return condition.test(last[0]);
        });
    return last[0];
  }

  private static void eventually(String what, Duration timeout, DevInThread.Check check)
      throws Exception {
    DevInThread.eventually(what, timeout, check);
  }
}
