package dev.syllabus.workflows.job;

/**
 * How far a job has trained, as read from what the trainer prints and the checkpoints it saved.
 * Steps are phase-local (0 to {@code maxSteps}), as the trainer prints them.
 *
 * @param step the latest step the trainer reported, or the latest checkpoint's if later
 * @param maxSteps the steps this phase trains, or 0 when not yet known
 * @param loss the latest training loss, or null
 * @param evalLoss the latest held-out loss, or null
 * @param checkpointStep the step of the latest complete checkpoint, or null
 */
public record JobProgress(
    long step, long maxSteps, Double loss, Double evalLoss, Long checkpointStep) {

  /** Nothing trained yet. */
  public static JobProgress none(long maxSteps) {
    return new JobProgress(0, maxSteps, null, null, null);
  }

  public JobProgress withCheckpoint(Long checkpoint) {
    return new JobProgress(step, maxSteps, loss, evalLoss, checkpoint);
  }
}
