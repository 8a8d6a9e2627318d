package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run's current details in the Web UI: one line for the run, one list item per phase. */
class CurriculumViewTest {

  @Test
  void detailsShowEachPhaseOnALineWithItsStepsLossesAndWhereItResumes() {
    RunStatus paused =
        run(
            RunState.PAUSED,
            154,
            "paused (from the temporal CLI)",
            phase(0, "easy", PhaseState.PAUSED, 0, 900, 154, 0.00049, 0.39494, 1, 150L),
            pending(1, "medium", 900, 1950),
            pending(2, "hard", 1950, 3000));

    assertEquals(
        """
        **demo** · PAUSED · step 154 of 3000 (t = 0.051)
        paused (from the temporal CLI)

        - **0 easy** · PAUSED · steps 0 → 900, at 154 · loss 0.0005 · eval loss 0.3949 \
        · resumes from step 150
        - **1 medium** · PENDING · steps 900 → 1950
        - **2 hard** · PENDING · steps 1950 → 3000
        """,
        CurriculumView.details(paused));
  }

  @Test
  void detailsShowWhereAnAdvancedPhaseEndedTheModelItHandedOnAndARetriedAttempt() {
    RunStatus running =
        run(
            RunState.RUNNING,
            1200,
            null,
            phase(0, "easy", PhaseState.ADVANCED, 0, 900, 450, 0.01, 0.5, 1, 450L)
                .withArtifacts(model("demo-x/0-easy/checkpoint-450")),
            phase(1, "medium", PhaseState.RUNNING, 900, 1950, 1200, 0.02, null, 2, 1150L),
            pending(2, "hard", 1950, 3000));

    String details = CurriculumView.details(running);

    assertEquals(
        List.of(
            "- **0 easy** · ADVANCED · steps 0 → 900, at 450 · loss 0.0100 · eval loss 0.5000"
                + " · model `demo-x/0-easy/checkpoint-450`",
            "- **1 medium** · RUNNING · steps 900 → 1950, at 1200 · loss 0.0200 · attempt 2",
            "- **2 hard** · PENDING · steps 1950 → 3000"),
        details.lines().filter(line -> line.startsWith("- ")).toList());
  }

  @Test
  void aPhasePausedAtItsCheckpointSaysSoOnce() {
    RunStatus paused =
        run(
            RunState.PAUSED,
            161,
            null,
            phase(0, "easy", PhaseState.PAUSED, 0, 900, 161, 0.0005, 0.3949, 1, 161L));

    assertEquals(
        "- **0 easy** · PAUSED · steps 0 → 900, at 161 · loss 0.0005 · eval loss 0.3949",
        CurriculumView.details(paused).lines().filter(l -> l.startsWith("- ")).findFirst().get());
  }

  @Test
  void detailsHaveNoTableTheWebUiWouldRunTogether() {
    RunStatus started =
        run(
            RunState.RUNNING,
            0,
            null,
            pending(0, "easy", 0, 900),
            pending(1, "medium", 900, 1950),
            pending(2, "hard", 1950, 3000));

    assertFalse(CurriculumView.details(started).contains("|"), CurriculumView.details(started));
  }

  private static RunStatus run(RunState state, long step, String message, PhaseStatus... phases) {
    return new RunStatus(
        "demo-x",
        "demo",
        state,
        step,
        3000,
        step / 3000.0,
        0,
        List.of(phases),
        Triplet.EMPTY,
        message);
  }

  private static PhaseStatus pending(int index, String name, long start, long end) {
    return phase(index, name, PhaseState.PENDING, start, end, start, null, null, 0, null);
  }

  private static PhaseStatus phase(
      int index,
      String name,
      PhaseState state,
      long start,
      long end,
      long step,
      Double loss,
      Double evalLoss,
      int attempt,
      Long checkpoint) {
    return new PhaseStatus(
        index,
        name,
        "tiny",
        "train",
        state,
        start,
        end,
        step,
        loss,
        evalLoss,
        attempt,
        null,
        null,
        checkpoint,
        0);
  }

  private static Triplet model(String path) {
    return new Triplet(
        new ArtifactRef(ArtifactRef.Kind.MODEL, "file:///store/" + path, path, "easy", 450, null),
        null,
        null);
  }
}
