package dev.syllabus.activities.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.record.RunRecord.PhaseRecord;
import dev.syllabus.activities.record.RunRecord.Point;
import dev.syllabus.workflows.RetryOf;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.record.RecordUpdate;
import dev.syllabus.workflows.record.RecordUpdate.PhaseEntry;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.PhaseTimes;
import dev.syllabus.workflows.status.RunState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record a worker writes from a run's updates and what the store shows. */
class RunRecordWriterTest {

  private static final Recipe RECIPE =
      Recipe.builder("demo")
          .totalSteps(3000)
          .phase(Phase.builder("easy").until(0.3).framework("tiny", "train"))
          .phase(Phase.builder("hard").until(1.0).framework("tiny", "train"))
          .build();

  @TempDir Path root;

  @Test
  void aRunReadsBackWithItsPhasesTimesSeriesImagesAndLineage() throws Exception {
    ArtifactStore store = new ArtifactStore(root);
    RunRecordWriter writer = new RunRecordWriter(store, "local", "1.2.3");
    Path easy = root.resolve("r1/0-easy");
    checkpoint(easy, 900, 900, 50);
    Files.writeString(
        easy.resolve("rendered.yaml"),
        "---\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n"
            + "      containers:\n      - {name: trainer, image: 'python:3.11-slim'}\n");
    Files.writeString(
        root.resolve("r1/lineage.json"),
        "{\"runId\":\"r1\",\"artifacts\":[{\"kind\":\"MODEL\",\"path\":\"r1/0-easy/checkpoint-900\"}]}");

    writer.writeRecord(update("r1", 1_000, start(null), RunState.RUNNING, false, List.of()));
    writer.writeRecord(
        update("r1", 2_000, null, RunState.RUNNING, false, List.of(started(0, "easy", 2_000))));
    writer.writeRecord(
        update(
            "r1",
            62_000,
            null,
            RunState.RUNNING,
            false,
            List.of(ended(0, "easy", 2_000, 62_000, model("r1/0-easy/checkpoint-900")))));
    writer.writeRecord(update("r1", 63_000, null, RunState.FAILED, true, List.of()));

    RunRecord record = RunRecords.read(RunRecords.fileOf(root, "r1"));
    assertEquals(RunRecord.SCHEMA, record.schema());
    assertEquals("demo", record.recipe());
    assertEquals("demo", record.resolvedRecipe().path("name").asText());
    assertEquals("local", record.backend());
    assertEquals("1.2.3", record.syllabusVersion());
    assertEquals("FAILED", record.state());
    assertEquals("1970-01-01T00:00:01Z", record.startedAt());
    assertEquals("1970-01-01T00:01:03Z", record.endedAt());
    assertEquals(3000, record.totalSteps());
    assertEquals(2, record.phases().size());
    assertEquals("PENDING", record.phases().get(1).state());
    assertEquals(900, record.phases().get(1).stepStart());

    PhaseRecord phase = record.phases().get(0);
    assertEquals("COMPLETED", phase.state());
    assertEquals("1970-01-01T00:00:02Z", phase.startedAt());
    assertEquals("1970-01-01T00:01:02Z", phase.endedAt());
    assertEquals(50.0, phase.runningSeconds());
    assertEquals(4.0, phase.queuedSeconds());
    assertEquals(2 * 50.0 / 3600, phase.gpuHours(), 1e-12);
    assertEquals(Map.of("job/trainer", "python:3.11-slim"), phase.images());
    assertEquals("r1/0-easy/checkpoint-900", phase.output().model().path());
    // log_history: training every 50 steps (18 entries), held-out loss every 150 (7 entries).
    assertEquals(25, phase.series().logged());
    List<Point> points = phase.series().points();
    assertEquals(50, points.get(1).step());
    assertTrue(points.stream().anyMatch(p -> p.evalLoss() != null && p.step() == 900));
    assertEquals(1, record.lineage().size());
  }

  @Test
  void theSeriesOfALaterPhaseIsOverGlobalStepAndDownsampled() throws Exception {
    ArtifactStore store = new ArtifactStore(root);
    RunRecordWriter writer = new RunRecordWriter(store, "local", "dev");
    checkpoint(root.resolve("r2/1-hard"), 2100, 2100, 1);
    writer.writeRecord(update("r2", 1_000, start(null), RunState.RUNNING, false, List.of()));
    writer.writeRecord(
        update("r2", 2_000, null, RunState.RUNNING, false, List.of(started(1, "hard", 2_000))));

    RunRecord.Series series =
        RunRecords.read(RunRecords.fileOf(root, "r2")).phases().get(1).series();
    List<Point> training = series.points().stream().filter(p -> p.loss() != null).toList();
    assertEquals(RunRecord.Series.MAX_POINTS, training.size());
    assertEquals(900 + 1, training.get(0).step());
    assertEquals(900 + 2100, training.get(training.size() - 1).step());
    assertEquals(2100 + 2100 / 150 + 1, series.logged());
  }

  @Test
  void aRetryTakesOverThePhasesOfTheRunItRetries() throws Exception {
    ArtifactStore store = new ArtifactStore(root);
    RunRecordWriter writer = new RunRecordWriter(store, "local", "dev");
    checkpoint(root.resolve("old/0-easy"), 900, 900, 50);
    writer.writeRecord(update("old", 1_000, start(null), RunState.RUNNING, false, List.of()));
    writer.writeRecord(
        update(
            "old",
            5_000,
            null,
            RunState.FAILED,
            true,
            List.of(ended(0, "easy", 2_000, 4_000, model("old/0-easy/checkpoint-900")))));

    PhaseStatus easy = status(0, "easy", PhaseState.COMPLETED);
    writer.writeRecord(
        update(
            "new",
            9_000,
            start(new RetryOf("old", "hard")),
            RunState.RUNNING,
            false,
            List.of(
                new PhaseEntry(easy, null, null, null, model("old/0-easy/checkpoint-900"), true))));

    RunRecord record = RunRecords.read(RunRecords.fileOf(root, "new"));
    assertEquals(new RetryOf("old", "hard"), record.retryOf());
    PhaseRecord taken = record.phases().get(0);
    assertEquals("REUSED", taken.state());
    assertTrue(taken.message().contains("run old"), taken.message());
    assertEquals(25, taken.series().logged(), "the series of the run it retries");
    assertEquals("old/0-easy/checkpoint-900", taken.output().model().path());
    assertEquals("PENDING", record.phases().get(1).state());
  }

  @Test
  void aFileThatIsNotARecordIsRefusedWithWhy() throws Exception {
    Path notJson = Files.writeString(root.resolve("a.json"), "{ nope");
    Path other = Files.writeString(root.resolve("b.json"), "{\"runId\": \"x\"}");
    Path newer =
        Files.writeString(root.resolve("c.json"), "{\"schema\": \"syllabus.run-record/v9\"}");

    assertTrue(
        assertThrows(RunRecords.NotARecord.class, () -> RunRecords.read(notJson))
            .getMessage()
            .startsWith(notJson + ": not JSON (line 1)"));
    assertEquals(
        other + ": not a Syllabus run record (no \"schema\" field)",
        assertThrows(RunRecords.NotARecord.class, () -> RunRecords.read(other)).getMessage());
    assertTrue(
        assertThrows(RunRecords.NotARecord.class, () -> RunRecords.read(newer))
            .getMessage()
            .contains("is not one this version reads"));
    assertTrue(
        assertThrows(
                RunRecords.NotARecord.class, () -> RunRecords.read(root.resolve("missing.json")))
            .getMessage()
            .endsWith("no such file"));
  }

  @Test
  void aRunWithoutACheckpointYetHasNoSeries() throws Exception {
    RunRecordWriter writer = new RunRecordWriter(new ArtifactStore(root), "kubernetes", "dev");
    writer.writeRecord(update("r5", 1_000, start(null), RunState.RUNNING, false, List.of()));
    writer.writeRecord(
        update("r5", 2_000, null, RunState.RUNNING, false, List.of(started(0, "easy", 2_000))));
    PhaseRecord easy = RunRecords.read(RunRecords.fileOf(root, "r5")).phases().get(0);
    assertEquals("RUNNING", easy.state());
    assertNull(easy.series());
    assertNull(easy.endedAt());
  }

  /** A complete checkpoint-{@code step} logging training every {@code every} steps. */
  private static void checkpoint(Path phase, long step, long maxSteps, int every) throws Exception {
    Path folder = Files.createDirectories(phase.resolve("checkpoint-" + step));
    List<String> history = new ArrayList<>();
    for (long s = 0; s <= maxSteps; s++) {
      if (s > 0 && s % every == 0) {
        history.add("{\"loss\": " + (1.0 / s) + ", \"learning_rate\": 0.01, \"step\": " + s + "}");
      }
      if (s % 150 == 0) {
        history.add("{\"eval_loss\": " + (2.0 / (s + 1)) + ", \"step\": " + s + "}");
      }
    }
    Files.writeString(folder.resolve("model.json"), "{}");
    Files.writeString(
        folder.resolve("trainer_state.json"),
        "{\"global_step\": " + step + ", \"log_history\": [" + String.join(",", history) + "]}");
  }

  private static RecordUpdate.Start start(RetryOf retryOf) {
    return new RecordUpdate.Start(RECIPE, retryOf, 1_000);
  }

  private static RecordUpdate update(
      String runId,
      long at,
      RecordUpdate.Start start,
      RunState state,
      boolean ended,
      List<PhaseEntry> phases) {
    return new RecordUpdate(runId, at, start, state, null, 0, ended, phases);
  }

  private static PhaseEntry started(int index, String name, long at) {
    return new PhaseEntry(status(index, name, PhaseState.RUNNING), at, null, null, null, false);
  }

  private static PhaseEntry ended(int index, String name, long from, long to, Triplet output) {
    return new PhaseEntry(
        status(index, name, PhaseState.COMPLETED),
        from,
        to,
        new PhaseTimes(50_000, 4_000, 0, null, 2),
        output,
        false);
  }

  private static PhaseStatus status(int index, String name, PhaseState state) {
    long start = index == 0 ? 0 : 900;
    long end = index == 0 ? 900 : 3000;
    return new PhaseStatus(
        index, name, "tiny", "train", state, start, end, end, 0.01, 0.02, 1, null, null, null, 0);
  }

  private static Triplet model(String path) {
    return new Triplet(
        new ArtifactRef(ArtifactRef.Kind.MODEL, "file:///" + path, path, "easy", 900, "sha256:0"),
        null,
        null);
  }
}
