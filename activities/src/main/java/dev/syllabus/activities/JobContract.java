package dev.syllabus.activities;

import dev.syllabus.workflows.job.JobState;

/**
 * What a job that ended comes to under the job contract, whichever backend ran it: a trainer that
 * exits 0 with a complete checkpoint at its last step SUCCEEDED; one that was asked to stop is
 * STOPPED at its latest checkpoint, however it exited; one that exits 0 early, or not 0, FAILED.
 * The handoff needs that last checkpoint, so a clean exit without it is a failure even when the
 * last step is unknown.
 */
public final class JobContract {

  /**
   * @param state SUCCEEDED, STOPPED or FAILED
   * @param message why, for the phase's status; null when it succeeded
   */
  public record Verdict(JobState state, String message) {}

  private JobContract() {}

  /**
   * @param exitCode the trainer's exit code, or null when it ended without one (killed) or it is
   *     not known
   * @param stopAsked whether Syllabus asked the job to stop (pause, advance, skip)
   * @param checkpoint the step of the latest complete checkpoint, or null when there is none
   * @param lastStep the phase's last step (its step count), or 0 when not known
   */
  public static Verdict verdict(
      Integer exitCode, boolean stopAsked, Long checkpoint, long lastStep) {
    boolean atLastStep = checkpoint != null && checkpoint >= lastStep;
    if (exitCode != null && exitCode == 0 && atLastStep) {
      return new Verdict(JobState.SUCCEEDED, null);
    }
    if (stopAsked) {
      String at =
          checkpoint == null ? "before its first checkpoint" : "at checkpoint " + checkpoint;
      String how = exitCode == null || exitCode == 0 ? "" : " (exit code " + exitCode + ")";
      return new Verdict(JobState.STOPPED, "stopped " + at + how);
    }
    if (exitCode == null) {
      return new Verdict(JobState.FAILED, "the trainer ended with no exit code");
    }
    if (exitCode == 0) {
      return new Verdict(
          JobState.FAILED,
          "the trainer exited 0 before its last step (latest complete checkpoint: "
              + (checkpoint == null ? "none" : checkpoint)
              + " of "
              + (lastStep > 0 ? lastStep : "an unknown number of steps")
              + ")");
    }
    return new Verdict(JobState.FAILED, "exit code " + exitCode);
  }
}
