package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.PhaseTimes;

/**
 * How a phase ended: its final status (COMPLETED, ADVANCED or SKIPPED) and the triplet the next
 * phase starts from.
 *
 * @param jobEndedAt workflow time (epoch milliseconds) when its latest job was seen to end, where
 *     the handoff to the next phase starts; null when it ran none (for {@code PhaseMetrics})
 * @param times where its time went (for the run record); null from phase workflows older than the
 *     run record
 */
public record PhaseOutcome(PhaseStatus status, Triplet output, Long jobEndedAt, PhaseTimes times) {

  public PhaseOutcome(PhaseStatus status, Triplet output, Long jobEndedAt) {
    this(status, output, jobEndedAt, null);
  }
}
