package dev.syllabus.workflows.status;

/** Where a whole run stands. */
public enum RunState {
  RUNNING,
  PAUSED,
  COMPLETED,
  FAILED,
  CANCELED;

  public boolean isFinal() {
    return this == COMPLETED || this == FAILED || this == CANCELED;
  }
}
