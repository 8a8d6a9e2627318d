package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.PhaseStatus;

/**
 * How a phase ended: its final status (COMPLETED, ADVANCED or SKIPPED) and the triplet the next
 * phase starts from.
 *
 * @param jobEndedAt workflow time (epoch milliseconds) when its latest job was seen to end, where
 *     the handoff to the next phase starts; null when it ran none (for {@code PhaseMetrics})
 */
public record PhaseOutcome(PhaseStatus status, Triplet output, Long jobEndedAt) {}
