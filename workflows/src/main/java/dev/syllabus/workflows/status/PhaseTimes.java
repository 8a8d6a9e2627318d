package dev.syllabus.workflows.status;

/**
 * Where a phase's time went, in workflow time, as its phase workflow counted it (for the run
 * record; the same counts as the {@code syllabus_phase_*_seconds} metrics). A phase that continued
 * as new counts from its latest run only.
 *
 * @param runningMillis its job ran
 * @param queuedMillis its job waited for cluster capacity
 * @param pausedMillis it was paused
 * @param handoffMillis the previous phase's job ended → this phase's first job started; null for
 *     the first phase, or when not measured
 * @param gpus the GPUs it asks for, over all its workloads
 */
public record PhaseTimes(
    long runningMillis, long queuedMillis, long pausedMillis, Long handoffMillis, int gpus) {}
