package dev.syllabus.workflows;

/**
 * Where a run made by {@code syllabus retry} comes from: the earlier run whose artifacts it starts
 * from, and the first phase it runs itself.
 *
 * @param runId the earlier run
 * @param fromPhase the phase the new run starts at; the phases before it are the earlier run's
 */
public record RetryOf(String runId, String fromPhase) {}
