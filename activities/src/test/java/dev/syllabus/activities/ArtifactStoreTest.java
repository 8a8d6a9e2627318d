package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.ArtifactRef.Kind;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handing a phase's checkpoint on, and recording its lineage. */
class ArtifactStoreTest {

  @TempDir Path root;

  private PhaseTask task(OptimizerState state, Triplet input) {
    Phase phase =
        Phase.builder("medium")
            .until(1.0)
            .framework("tiny", "train")
            .optimizer(new OptimizerSpec(null, null, state))
            .build();
    return new PhaseTask(
        "r1",
        "demo",
        1,
        phase,
        new StepRange(900, 1950),
        1950,
        input,
        DataSpec.of("synthetic:waves-medium"),
        1000,
        0,
        null);
  }

  private final JobRef job = JobRef.of("r1", 1, "medium", 1);

  private Path checkpoint(long step, boolean complete) throws Exception {
    Path dir = root.resolve("r1/1-medium/checkpoint-" + step);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("model.json"), "{\"w\": " + step + "}");
    Files.writeString(dir.resolve("optimizer.json"), "{\"t\": " + step + "}");
    if (complete) {
      Files.writeString(dir.resolve("trainer_state.json"), "{\"global_step\": " + step + "}");
    }
    return dir;
  }

  @Test
  void theLatestCompleteCheckpointIsHandedOnWithGlobalSteps() throws Exception {
    checkpoint(500, true);
    checkpoint(1050, true);
    Handoff handoff =
        new ArtifactStore(root).handOff(task(OptimizerState.RESET, Triplet.EMPTY), job);

    assertEquals(1050L, handoff.checkpointStep());
    ArtifactRef model = handoff.output().model();
    assertEquals("r1/1-medium/checkpoint-1050", model.path());
    assertEquals(1950, model.step());
    assertEquals("medium", model.phase());
    assertTrue(model.digest().startsWith("sha256:"));
    assertEquals(Kind.OPTIMIZER, handoff.output().optimizer().kind());
    assertEquals("r1/1-medium/data.json", handoff.output().data().path());
  }

  @Test
  void aCheckpointStillBeingWrittenIsPassedOver() throws Exception {
    checkpoint(500, true);
    checkpoint(1000, false);
    Handoff handoff =
        new ArtifactStore(root).handOff(task(OptimizerState.RESET, Triplet.EMPTY), job);
    assertEquals(500L, handoff.checkpointStep());
  }

  @Test
  void aCheckpointWhoseStateIsCutShortIsPassedOverEvenAfterItWasSeenComplete() throws Exception {
    ArtifactStore store = new ArtifactStore(root);
    Path folder = store.phaseFolder(job);
    checkpoint(500, true);
    Path newest = checkpoint(1000, true);
    assertEquals(1000L, store.latestCheckpoint(folder).orElseThrow().step());

    // Rewritten (a trainer saving again into the same folder) and not finished yet.
    Files.writeString(newest.resolve("trainer_state.json"), "{\"global_step\": 10");
    assertEquals(500L, store.latestCheckpoint(folder).orElseThrow().step());

    Files.writeString(newest.resolve("trainer_state.json"), "{\"global_step\": 1000}");
    assertEquals(1000L, store.latestCheckpoint(folder).orElseThrow().step());
  }

  @Test
  void withoutACheckpointTheInputPassesOn() {
    Triplet input = new Triplet(ArtifactRef.external(Kind.MODEL, "base"), null, null);
    Handoff handoff = new ArtifactStore(root).handOff(task(OptimizerState.RESET, input), job);
    assertSame(input, handoff.output());
    assertNull(handoff.checkpointStep());
  }

  @Test
  void theDigestChangesWithTheContent() throws Exception {
    Path dir = checkpoint(500, true);
    String before = ArtifactStore.digest(dir);
    assertEquals(before, ArtifactStore.digest(dir));
    Files.writeString(dir.resolve("model.json"), "{\"w\": -1}");
    assertNotEquals(before, ArtifactStore.digest(dir));
  }

  @Test
  void lineageRecordsEachArtifactWithItsInputs() throws Exception {
    checkpoint(1050, true);
    ArtifactRef easyModel =
        new ArtifactRef(
            Kind.MODEL,
            "file:///x/r1/0-easy/checkpoint-900",
            "r1/0-easy/checkpoint-900",
            "easy",
            900,
            "sha256:e");
    ArtifactRef easyOptimizer =
        new ArtifactRef(Kind.OPTIMIZER, easyModel.uri(), easyModel.path(), "easy", 900, "sha256:e");
    ArtifactStore store = new ArtifactStore(root);
    store.handOff(task(OptimizerState.CARRY, new Triplet(easyModel, easyOptimizer, null)), job);
    store.handOff(task(OptimizerState.CARRY, new Triplet(easyModel, easyOptimizer, null)), job);

    JsonNode lineage = new ObjectMapper().readTree(root.resolve("r1/lineage.json").toFile());
    assertEquals("r1", lineage.get("runId").asText());
    assertEquals(3, lineage.get("artifacts").size(), "a repeated handoff replaces its entries");
    JsonNode optimizer = lineage.get("artifacts").get(1);
    assertEquals("OPTIMIZER", optimizer.get("kind").asText());
    assertEquals(easyOptimizer.uri(), optimizer.at("/inputs/0/uri").asText());
    JsonNode model = lineage.get("artifacts").get(0);
    assertEquals(3, model.get("inputs").size(), "model from: input model, carried optimizer, data");
  }

  @Test
  void aResetPhasesOptimizerHasNoInputs() throws Exception {
    checkpoint(1050, true);
    ArtifactRef easy =
        new ArtifactRef(
            Kind.OPTIMIZER, "file:///x/e", "r1/0-easy/checkpoint-900", "easy", 900, "sha256:e");
    new ArtifactStore(root).handOff(task(OptimizerState.RESET, new Triplet(null, easy, null)), job);
    JsonNode lineage = new ObjectMapper().readTree(root.resolve("r1/lineage.json").toFile());
    assertEquals(0, lineage.at("/artifacts/1/inputs").size());
  }
}
