package dev.syllabus.workflows.job;

import dev.syllabus.workflows.status.PhaseStatus;

/**
 * What a phase workflow carries across continue-as-new while its job keeps running.
 *
 * @param status the phase as shown
 * @param job the running attempt, or null before the first
 * @param snapshot the last look at the job
 * @param jobStopped whether the job was stopped (paused) and must be resumed before following
 * @param stopRequested whether a stop was already sent to the running job
 * @param pauseWanted a pause is in force
 * @param advanceWanted an advance is pending
 * @param skipWanted a skip is pending
 * @param reason the reason given with the last signal
 * @param failures how many attempts have failed
 * @param capacitySince workflow time since when the job has waited for cluster capacity, or null
 */
public record PhaseProgress(
    PhaseStatus status,
    JobRef job,
    JobSnapshot snapshot,
    boolean jobStopped,
    boolean stopRequested,
    boolean pauseWanted,
    boolean advanceWanted,
    boolean skipWanted,
    String reason,
    int failures,
    Long capacitySince) {}
