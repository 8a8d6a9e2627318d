package dev.syllabus.workflows.job;

/**
 * What a backend saw of a job at one moment: its state and the progress read from its output. Steps
 * are phase-local (0 to {@code maxSteps}), as the trainer prints them.
 *
 * @param state where the job stands
 * @param step the latest step the trainer reported
 * @param maxSteps the steps this phase trains, or 0 when not yet known
 * @param loss the latest training loss, or null
 * @param evalLoss the latest held-out loss, or null
 * @param checkpointStep the step of the latest complete checkpoint, or null
 * @param logOffset how far the job's log has been read, so the next look reads only new lines
 * @param exitCode the job's exit code once it ended, or null
 * @param message a person-readable reason, e.g. why it failed or what it waits for
 * @param permanent a failure that another attempt would repeat (a bad image, a missing Secret, out
 *     of memory): the phase fails without retrying
 * @param waitingForCapacity the job is pending because the cluster has no room for it
 */
public record JobSnapshot(
    JobState state,
    long step,
    long maxSteps,
    Double loss,
    Double evalLoss,
    Long checkpointStep,
    long logOffset,
    Integer exitCode,
    String message,
    boolean permanent,
    boolean waitingForCapacity) {

  /** A snapshot of an ordinary job: not a permanent failure, not waiting for capacity. */
  public JobSnapshot(
      JobState state,
      long step,
      long maxSteps,
      Double loss,
      Double evalLoss,
      Long checkpointStep,
      long logOffset,
      Integer exitCode,
      String message) {
    this(
        state,
        step,
        maxSteps,
        loss,
        evalLoss,
        checkpointStep,
        logOffset,
        exitCode,
        message,
        false,
        false);
  }

  public static JobSnapshot pending(long maxSteps) {
    return new JobSnapshot(JobState.PENDING, 0, maxSteps, null, null, null, 0, null, null);
  }

  public JobSnapshot withState(JobState newState, String newMessage) {
    return new JobSnapshot(
        newState,
        step,
        maxSteps,
        loss,
        evalLoss,
        checkpointStep,
        logOffset,
        exitCode,
        newMessage,
        permanent,
        waitingForCapacity);
  }
}
