package dev.syllabus.workflows.job;

/**
 * What a backend saw of a job at one moment: its state and the progress read from its output.
 *
 * @param state where the job stands
 * @param progress how far it has trained
 * @param logLines how many complete lines of the job's output have been read, over all its
 *     processes or pods, so that the next look reads only new ones; the same count on every backend
 * @param exitCode the trainer's exit code once it ended, or null
 * @param message a person-readable reason, e.g. why it failed or what it waits for
 * @param permanent a failure that another attempt would repeat (a bad image, a missing Secret, out
 *     of memory): the phase fails without retrying
 * @param waitingForCapacity the job is pending because the cluster has no room for it
 */
public record JobSnapshot(
    JobState state,
    JobProgress progress,
    long logLines,
    Integer exitCode,
    String message,
    boolean permanent,
    boolean waitingForCapacity) {

  /** A job just created or resumed, not running yet. */
  public static JobSnapshot pending(JobProgress progress, String message) {
    return new JobSnapshot(JobState.PENDING, progress, 0, null, message, false, false);
  }

  /** An ordinary look: not a permanent failure, not waiting for capacity. */
  public static JobSnapshot of(
      JobState state, JobProgress progress, long logLines, Integer exitCode, String message) {
    return new JobSnapshot(state, progress, logLines, exitCode, message, false, false);
  }

  public JobSnapshot withState(JobState newState, String newMessage) {
    return new JobSnapshot(
        newState, progress, logLines, exitCode, newMessage, permanent, waitingForCapacity);
  }
}
