package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseProgress;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Everything that crosses Temporal survives its data converter unchanged. Guards against Jackson
 * taking a derived accessor such as {@code isEmpty()} for a property, which breaks decoding.
 */
class PayloadsTest {
  private static final DataConverter CONVERTER = DefaultDataConverter.newDefaultInstance();

  private static <T> void roundTrips(T value) {
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) value.getClass();
    Payload payload = CONVERTER.toPayload(value).orElseThrow();
    assertEquals(value, CONVERTER.fromPayload(payload, type, type));
  }

  static final ArtifactRef MODEL =
      new ArtifactRef(
          ArtifactRef.Kind.MODEL,
          "file:///s/r/0-easy/checkpoint-900",
          "r/0-easy/checkpoint-900",
          "easy",
          900,
          "sha256:ab");
  static final Triplet TRIPLET =
      new Triplet(MODEL, MODEL, ArtifactRef.external(ArtifactRef.Kind.DATA, "org/data"));
  static final JobSnapshot SNAPSHOT =
      new JobSnapshot(JobState.RUNNING, 420, 1050, 0.12, 0.03, 400L, 8192, null, null);
  static final PhaseStatus STATUS =
      new PhaseStatus(
          1,
          "medium",
          "tiny",
          "train",
          PhaseState.RUNNING,
          900,
          1950,
          1320,
          0.12,
          0.03,
          1,
          TRIPLET,
          "why");

  @Test
  void recipesAndRunInputs() {
    Recipe recipe = CurriculumWorkflowTest.demo();
    roundTrips(recipe);
    roundTrips(new RunInput(recipe, new RunSettings(500, 40), null));
    roundTrips(
        new RunInput(
            recipe,
            RunSettings.DEFAULTS,
            new RunStatus(
                "r",
                "demo",
                RunState.PAUSED,
                1320,
                3000,
                0.44,
                1,
                List.of(STATUS),
                TRIPLET,
                "paused")));
  }

  @Test
  void phaseTasksWithTheirCarriedProgress() {
    Recipe recipe = CurriculumWorkflowTest.demo();
    PhaseTask task =
        new PhaseTask(
            "r",
            "demo",
            1,
            recipe.phases().get(1),
            new StepRange(900, 1950),
            3000,
            TRIPLET,
            DataSpec.of("synthetic:waves-medium"),
            1000,
            0,
            null);
    roundTrips(task);
    roundTrips(
        task.withCarried(
            new PhaseProgress(
                STATUS,
                JobRef.of("r", 1, "medium", 1),
                SNAPSHOT,
                true,
                false,
                true,
                false,
                false,
                "because")));
  }

  @Test
  void jobsAndHandoffs() {
    roundTrips(SNAPSHOT);
    roundTrips(
        new RenderedPhase(
            JobRef.of("r", 0, "easy", 2),
            List.of(new Manifest("Job", "r-0-easy-2", "train", "kind: Job\n"))));
    roundTrips(new Handoff(TRIPLET, 900L, "checkpoint-900 handed on"));
    roundTrips(new PhaseOutcome(STATUS, TRIPLET));
    roundTrips(STATUS);
  }
}
