package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.PhaseStatus;

/**
 * How a phase ended: its final status (COMPLETED, ADVANCED or SKIPPED) and the triplet the next
 * phase starts from.
 */
public record PhaseOutcome(PhaseStatus status, Triplet output) {}
