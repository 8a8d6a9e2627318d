package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code syllabus status} as a table for people. */
class RunViewTest {

  private static PhaseStatus phase(
      int index, String name, PhaseState state, long step, String why) {
    long start = index * 500L;
    return new PhaseStatus(
        index,
        name,
        "axolotl",
        "sft",
        state,
        start,
        start + 500,
        step,
        0.5,
        null,
        1,
        null,
        why,
        null,
        0);
  }

  @Test
  void aPreemptedPhaseShowsItsStateStepAndWhy() {
    String why =
        "preempted by Kueue: Preempted to accommodate a workload (UID: 40c7…) due to"
            + " prioritization in the ClusterQueue; waits to be admitted again, then resumes from"
            + " checkpoint 166";
    RunStatus run =
        new RunStatus(
            "lo",
            "k8s",
            RunState.RUNNING,
            166,
            1000,
            0.166,
            0,
            List.of(
                phase(0, "sft", PhaseState.PREEMPTED, 166, why),
                phase(1, "grpo", PhaseState.PENDING, 500, null)),
            null,
            null);
    assertEquals(
        "run lo · recipe k8s · RUNNING · step 166/1000 (t = 0.166) · phase 0 sft\n"
            + "  #  phase  state      steps             step  loss      eval loss  model\n"
            + "  0  sft    PREEMPTED  [0, 500)           166  0.5000    –          –\n"
            + "     "
            + why
            + "\n"
            + "  1  grpo   PENDING    [500, 1000)          –  0.5000    –          –\n",
        RunView.table(run));
  }
}
