package dev.syllabus.workflows.record;

import dev.syllabus.workflows.RetryOf;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.PhaseTimes;
import dev.syllabus.workflows.status.RunState;
import java.util.List;

/**
 * What changed in a run since its record was last written. Small on purpose: the recipe goes once
 * per workflow run ({@link Start}), and then only the phases that changed, so that a long
 * curriculum's history does not carry its whole status at every phase.
 *
 * @param runId the run
 * @param at workflow time of this update (epoch milliseconds)
 * @param start the recipe and origin, in the first update of each workflow run; else null
 * @param state the run's state now
 * @param message why the run is in this state, or null
 * @param step the global step the run reached
 * @param ended whether the run has ended (the last update)
 * @param phases the phases that changed, each as it stands now
 */
public record RecordUpdate(
    String runId,
    long at,
    Start start,
    RunState state,
    String message,
    long step,
    boolean ended,
    List<PhaseEntry> phases) {

  public RecordUpdate {
    phases = List.copyOf(phases);
  }

  /**
   * The run as it started.
   *
   * @param recipe the recipe, resolved
   * @param retryOf the run it retries, or null
   * @param startedAt workflow time this workflow run started (the record keeps the earliest)
   */
  public record Start(Recipe recipe, RetryOf retryOf, long startedAt) {}

  /**
   * One phase as it stands.
   *
   * @param status its status
   * @param startedAt workflow time it started, or null
   * @param endedAt workflow time it ended, or null
   * @param times where its time went, once it ended (null for a failed phase, or before)
   * @param output the triplet it handed on, or null
   * @param reused whether a retry took it over from the run it retries
   */
  public record PhaseEntry(
      PhaseStatus status,
      Long startedAt,
      Long endedAt,
      PhaseTimes times,
      Triplet output,
      boolean reused) {}
}
