package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * {@code syllabus demo}: the demo recipe through the embedded Temporal, the real workflows, the
 * local backend and the real tiny trainer. Checked from what is left on disk.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class DemoEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] PHASES = {"0-easy", "1-medium", "2-hard"};

  private Path home;
  private Cli.Result demo;
  private Path runDir;

  @BeforeAll
  void runTheDemo() throws Exception {
    home = Files.createTempDirectory("syllabus-demo-test");
    Cli cli = new Cli(home);
    demo = cli.run("demo", "--id", "e2e", "--metrics-port", "0");
    runDir = home.resolve("runs/e2e");
  }

  @AfterAll
  void removeTheRun() throws Exception {
    try (Stream<Path> files = Files.walk(home)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void theDemoExitsZeroAndEveryPhaseCompleted() {
    assertEquals(0, demo.exitCode(), demo.out() + demo.err());
    assertTrue(demo.out().contains("run e2e COMPLETED"), demo.out());
    long completedRows =
        demo.out().lines().filter(l -> l.matches("\\s+\\d\\s+\\S+\\s+COMPLETED\\s.*")).count();
    assertEquals(3, completedRows, demo.out());
  }

  @Test
  void theDemoSaysWhereItServesItsMetrics() {
    assertTrue(
        demo.out()
            .lines()
            .anyMatch(l -> l.matches("  metrics: http://127\\.0\\.0\\.1:\\d+/metrics")),
        demo.out());
  }

  @Test
  void eachPhaseStartsFromThePreviousPhasesFinalCheckpoint() throws Exception {
    for (int i = 1; i < PHASES.length; i++) {
      Path previousFinal = finalCheckpoint(PHASES[i - 1]);
      JsonNode state = trainerState(finalCheckpoint(PHASES[i]));
      assertEquals(previousFinal.toString(), state.at("/syllabus/input_model").asText(), PHASES[i]);
    }
    assertEquals("", trainerState(finalCheckpoint(PHASES[0])).at("/syllabus/input_model").asText());
  }

  @Test
  void theCarriedOptimizerStateWasLoadedAndTheResetOneWasNot() throws Exception {
    JsonNode medium = trainerState(finalCheckpoint("1-medium")).get("syllabus");
    assertTrue(medium.get("optimizer_loaded").asBoolean(), medium.toString());
    assertEquals(finalCheckpoint("0-easy").toString(), medium.get("input_optimizer").asText());
    assertTrue(medium.get("optimizer_t_at_load").asLong() > 0, medium.toString());

    JsonNode hard = trainerState(finalCheckpoint("2-hard")).get("syllabus");
    assertFalse(hard.get("optimizer_loaded").asBoolean(), hard.toString());
    assertEquals("", hard.get("input_optimizer").asText());
  }

  @Test
  void heldOutLossFellAcrossTheCurriculum() throws Exception {
    List<Double> first = evalLosses("0-easy");
    double start = first.get(0);
    double afterEasy = first.get(first.size() - 1);
    List<Double> last = evalLosses("2-hard");
    double end = last.get(last.size() - 1);
    assertTrue(afterEasy < start, "easy: " + first);
    assertTrue(end < afterEasy, "after easy " + afterEasy + ", at the end " + end);
    assertTrue(end < start / 5, "start " + start + ", end " + end);
  }

  @Test
  void lineageRecordsEveryHandedOnArtifactWithItsInputs() throws Exception {
    JsonNode lineage = JSON.readTree(runDir.resolve("lineage.json").toFile());
    assertEquals(9, lineage.get("artifacts").size(), lineage.toPrettyString());
    JsonNode mediumModel = null;
    for (JsonNode a : lineage.get("artifacts")) {
      if (a.get("phase").asText().equals("medium") && a.get("kind").asText().equals("MODEL")) {
        mediumModel = a;
      }
    }
    assertTrue(mediumModel != null && mediumModel.get("digest").asText().startsWith("sha256:"));
    assertEquals(1950, mediumModel.get("step").asLong());
    assertEquals(
        finalCheckpoint("0-easy").toUri().toString().replaceAll("/$", ""),
        mediumModel.at("/inputs/0/uri").asText());
  }

  @Test
  void theRunLeavesARecordWithEveryPhasesTimesAndLossCurve() throws Exception {
    RunRecord record = RunRecords.read(runDir.resolve(RunRecord.FILE_NAME));
    assertEquals("e2e", record.runId());
    assertEquals("COMPLETED", record.state());
    assertEquals("local", record.backend());
    assertEquals(3000, record.step());
    assertTrue(record.endedAt() != null && record.startedAt() != null, record.toString());
    assertEquals("demo", record.resolvedRecipe().path("name").asText());
    assertEquals(9, record.lineage().size());
    for (int i = 0; i < PHASES.length; i++) {
      RunRecord.PhaseRecord phase = record.phases().get(i);
      assertEquals("COMPLETED", phase.state(), PHASES[i]);
      assertTrue(phase.runningSeconds() > 0, PHASES[i] + " ran: " + phase);
      assertTrue(phase.endedAt().compareTo(phase.startedAt()) >= 0, phase.toString());
      assertEquals(phase.stepEnd(), phase.output().model().step(), PHASES[i]);
      assertTrue(phase.images().containsKey("job/trainer"), phase.images().toString());
      // The curve covers the phase, over global step, and ends at its final held-out loss.
      List<RunRecord.Point> points = phase.series().points();
      assertEquals(phase.stepStart(), points.get(0).step(), PHASES[i]);
      assertEquals(phase.stepEnd(), points.get(points.size() - 1).step(), PHASES[i]);
      List<Double> evals = evalLosses(PHASES[i]);
      assertEquals(
          evals.get(evals.size() - 1),
          points.stream().filter(p -> p.evalLoss() != null).reduce((a, b) -> b).get().evalLoss());
    }
    assertTrue(record.phases().get(1).handoffSeconds() != null, "medium's handoff");
  }

  private Path finalCheckpoint(String phase) throws Exception {
    try (Stream<Path> entries = Files.list(runDir.resolve(phase))) {
      return entries
          .filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
          .max((a, b) -> Long.compare(step(a), step(b)))
          .orElseThrow(() -> new AssertionError("no checkpoint in " + phase));
    }
  }

  private static long step(Path checkpoint) {
    return Long.parseLong(checkpoint.getFileName().toString().substring("checkpoint-".length()));
  }

  private static JsonNode trainerState(Path checkpoint) throws Exception {
    return JSON.readTree(checkpoint.resolve("trainer_state.json").toFile());
  }

  private List<Double> evalLosses(String phase) throws Exception {
    List<Double> losses = new ArrayList<>();
    for (JsonNode entry : trainerState(finalCheckpoint(phase)).get("log_history")) {
      if (entry.has("eval_loss")) {
        losses.add(entry.get("eval_loss").asDouble());
      }
    }
    assertTrue(losses.size() >= 2, phase + ": " + losses);
    return losses;
  }
}
