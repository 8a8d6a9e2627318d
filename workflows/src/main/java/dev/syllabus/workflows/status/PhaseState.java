package dev.syllabus.workflows.status;

/** Where one phase of a run stands. */
public enum PhaseState {
  PENDING,
  RUNNING,
  PAUSED,
  /**
   * Its job gave its place to another (Kueue preempted it): it saves a checkpoint, waits to be
   * admitted again and carries on from there, as the same attempt. Not a failure, not a retry.
   */
  PREEMPTED,
  /** Ran to its last step. */
  COMPLETED,
  /** Ended early at its latest checkpoint, which was handed on. */
  ADVANCED,
  /** Did not run (or was stopped); the artifacts passed through unchanged. */
  SKIPPED,
  FAILED,
  CANCELED;

  public boolean isFinal() {
    return this != PENDING && this != RUNNING && this != PAUSED && this != PREEMPTED;
  }
}
