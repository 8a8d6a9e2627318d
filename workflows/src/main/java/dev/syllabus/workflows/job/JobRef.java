package dev.syllabus.workflows.job;

/**
 * Names one attempt of a phase's job. Everything a backend creates for it is derived from these
 * fields, so a retried or replayed activity finds its earlier work instead of doing it twice.
 *
 * @param runId the run
 * @param phaseIndex the phase's index in the recipe
 * @param phase the phase name
 * @param attempt from 1; a failed job is started again as the next attempt
 * @param name the job's name: a valid Kubernetes name derived from the fields above
 */
public record JobRef(String runId, int phaseIndex, String phase, int attempt, String name) {

  public static JobRef of(String runId, int phaseIndex, String phase, int attempt) {
    return new JobRef(
        runId, phaseIndex, phase, attempt, Names.jobName(runId, phaseIndex, phase, attempt));
  }

  /** The phase's folder in the artifact store, relative to the store root. */
  public String phaseFolder() {
    return Names.phaseFolder(runId, phaseIndex, phase);
  }
}
