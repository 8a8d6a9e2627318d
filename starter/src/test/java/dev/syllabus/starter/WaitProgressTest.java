package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaitProgressTest {

  @Test
  void theLineShowsThePhaseItsTenthOfStepsAndItsLosses() {
    assertEquals(
        "medium RUNNING step 1425/3000 (t=0.48) loss 0.0120 eval 0.3100",
        WaitProgress.line(run(1, 1470, PhaseState.RUNNING)));
  }

  @Test
  void stepsWithinOneTenthOfAPhaseGiveTheSameLine() {
    assertEquals(
        WaitProgress.line(run(1, 1100, PhaseState.RUNNING)),
        WaitProgress.line(run(1, 1010, PhaseState.RUNNING)));
  }

  @Test
  void aPhaseThatHasNotTrainedYetShowsNoLoss() {
    assertEquals(
        "medium PENDING step 900/3000 (t=0.30)",
        WaitProgress.line(run(1, 900, PhaseState.PENDING)));
  }

  private static RunStatus run(int index, long step, PhaseState state) {
    PhaseStatus easy =
        new PhaseStatus(
            0,
            "easy",
            "tiny",
            "train",
            PhaseState.COMPLETED,
            0,
            900,
            900,
            0.1,
            0.4,
            1,
            null,
            null,
            null,
            0);
    PhaseStatus medium =
        new PhaseStatus(
            1, "medium", "tiny", "train", state, 900, 1950, step, 0.012, 0.31, 1, null, null, null,
            0);
    return new RunStatus(
        "r",
        "demo",
        RunState.RUNNING,
        step,
        3000,
        step / 3000.0,
        index,
        List.of(easy, medium),
        null,
        null);
  }
}
