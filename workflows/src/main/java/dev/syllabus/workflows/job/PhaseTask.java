package dev.syllabus.workflows.job;

import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;

/**
 * Everything a phase needs to run: the recipe's phase, its place in the schedule and the triplet it
 * starts from. The input of {@code PhaseWorkflow} and of the render and collect activities.
 *
 * @param runId the run
 * @param recipe the recipe name
 * @param index the phase's position in the recipe
 * @param phase the phase as the recipe gives it
 * @param steps its global step range
 * @param totalSteps T
 * @param input the triplet it starts from
 * @param data the data it trains on: its own, or the nearest earlier phase's
 * @param reportEveryMillis how often a running job's progress is brought back to the workflow
 * @param maxHistoryEvents continue-as-new beyond this many events even if the server has not
 *     suggested it yet (0: only when suggested)
 * @param carried the state of an earlier run of this phase workflow that continued as new, or null
 * @param previousJobEndedAt workflow time (epoch milliseconds) when the job of the phase before was
 *     seen to end, the start of the handoff to this one; null for the first phase, or when no
 *     earlier phase ran a job. For the handoff latency metric only ({@code PhaseMetrics})
 */
public record PhaseTask(
    String runId,
    String recipe,
    int index,
    Phase phase,
    StepRange steps,
    long totalSteps,
    Triplet input,
    DataSpec data,
    long reportEveryMillis,
    long maxHistoryEvents,
    PhaseProgress carried,
    Long previousJobEndedAt) {

  /** A task with no handoff to measure: a phase rendered on its own, and tests. */
  public PhaseTask(
      String runId,
      String recipe,
      int index,
      Phase phase,
      StepRange steps,
      long totalSteps,
      Triplet input,
      DataSpec data,
      long reportEveryMillis,
      long maxHistoryEvents,
      PhaseProgress carried) {
    this(
        runId,
        recipe,
        index,
        phase,
        steps,
        totalSteps,
        input,
        data,
        reportEveryMillis,
        maxHistoryEvents,
        carried,
        null);
  }

  public PhaseTask withCarried(PhaseProgress progress) {
    return new PhaseTask(
        runId,
        recipe,
        index,
        phase,
        steps,
        totalSteps,
        input,
        data,
        reportEveryMillis,
        maxHistoryEvents,
        progress,
        previousJobEndedAt);
  }
}
