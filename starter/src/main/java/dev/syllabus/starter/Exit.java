package dev.syllabus.starter;

/** The exit codes every command uses (also {@code syllabus bench}, a jar of its own). */
public final class Exit {
  public static final int OK = 0;

  /** The run or the command failed. */
  public static final int FAILED = 1;

  /** Bad input: nothing was started. */
  public static final int BAD_INPUT = 2;

  private Exit() {}

  /** Bad input, reported as one line; nothing has been started. */
  public static final class BadInput extends RuntimeException {
    public BadInput(String message) {
      super(message);
    }
  }

  /** The command could not do its work (Temporal unreachable, a run that failed). */
  public static final class Failed extends RuntimeException {
    public Failed(String message) {
      super(message);
    }
  }
}
