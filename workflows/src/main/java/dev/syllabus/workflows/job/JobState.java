package dev.syllabus.workflows.job;

/** Where a phase's job stands, whichever backend runs it. */
public enum JobState {
  /** Created, not yet running (pulling an image, waiting for capacity). */
  PENDING,
  RUNNING,
  /** Ran to its last step and exited cleanly. */
  SUCCEEDED,
  /** Stopped on our request after saving a checkpoint (pause, advance, skip). */
  STOPPED,
  FAILED;

  public boolean hasEnded() {
    return this == SUCCEEDED || this == STOPPED || this == FAILED;
  }
}
