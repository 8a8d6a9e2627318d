package dev.syllabus.starter;

/** The exit codes every command uses. */
final class Exit {
  static final int OK = 0;

  /** The run or the command failed. */
  static final int FAILED = 1;

  /** Bad input: nothing was started. */
  static final int BAD_INPUT = 2;

  private Exit() {}

  /** Bad input, reported as one line; nothing has been started. */
  static final class BadInput extends RuntimeException {
    BadInput(String message) {
      super(message);
    }
  }

  /** The command could not do its work (Temporal unreachable, a run that failed). */
  static final class Failed extends RuntimeException {
    Failed(String message) {
      super(message);
    }
  }
}
