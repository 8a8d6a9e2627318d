package dev.syllabus.workflows.job;

import dev.syllabus.workflows.status.PhaseStatus;

/**
 * What a phase workflow carries across continue-as-new while its job keeps running.
 *
 * @param status the phase as shown
 * @param job the running attempt, or null before the first
 * @param rendered the attempt's objects (its servers are waited for again on resume), or null
 * @param snapshot the last look at the job
 * @param jobStopped whether the job was stopped (paused) and must be resumed before following
 * @param stopSent whether a stop was already sent to the running job
 * @param wanted what the signals ask
 * @param failures how many attempts have failed
 * @param capacitySince workflow time since when the job has waited for cluster capacity, or null
 */
public record PhaseProgress(
    PhaseStatus status,
    JobRef job,
    RenderedPhase rendered,
    JobSnapshot snapshot,
    boolean jobStopped,
    boolean stopSent,
    Wanted wanted,
    int failures,
    Long capacitySince) {}
