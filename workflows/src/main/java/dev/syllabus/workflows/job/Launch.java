package dev.syllabus.workflows.job;

/**
 * What {@code PhaseActivities.launch} did: rendered the phase and, unless it has servers that must
 * be ready first, started its job.
 *
 * @param rendered the phase's objects
 * @param started the job's first snapshot, or null when the phase's servers start first
 */
public record Launch(RenderedPhase rendered, JobSnapshot started) {}
