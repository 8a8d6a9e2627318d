package dev.syllabus.workflows.job;

/** Where a phase's job stands, whichever backend runs it. */
public enum JobState {
  /** Created, not yet running (pulling an image, waiting for capacity). */
  PENDING,
  RUNNING,
  /**
   * The cluster's queue (Kueue) took the job's place after admitting it, to make room for a job of
   * higher priority or because its pods were not ready in time: its trainer saves a checkpoint and
   * stops, the job waits to be admitted again and then carries on from that checkpoint. Not an end,
   * not a failure.
   */
  PREEMPTED,
  /** Ran to its last step and exited cleanly. */
  SUCCEEDED,
  /** Stopped on our request after saving a checkpoint (pause, advance, skip). */
  STOPPED,
  FAILED;

  public boolean hasEnded() {
    return this == SUCCEEDED || this == STOPPED || this == FAILED;
  }
}
