package dev.syllabus.starter;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Commands that serve (dev, worker) show what the worker does; the others stay quiet. */
public final class Logging {
  private Logging() {}

  /** {@code action}, run at most once however often it is called (shutdown hook and finally). */
  public static Runnable once(Runnable action) {
    java.util.concurrent.atomic.AtomicBoolean done =
        new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (done.compareAndSet(false, true)) {
        action.run();
      }
    };
  }

  /**
   * Blocks until Ctrl-C (the JVM runs {@code onCtrlC}) or until this thread is interrupted (tests),
   * then runs {@code stop}.
   */
  static void serveUntilInterrupted(Runnable stop, Thread onCtrlC) throws InterruptedException {
    try {
      new java.util.concurrent.CountDownLatch(1).await();
    } finally {
      stop.run();
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running already.
      }
    }
  }

  /** After Ctrl-C, Temporal's warnings about work cut short are expected, not news. */
  static void quietTemporal() {
    ((Logger) LoggerFactory.getLogger("io.temporal")).setLevel(Level.ERROR);
  }

  static void showWorkerActivity() {
    ((Logger) LoggerFactory.getLogger("dev.syllabus")).setLevel(Level.INFO);
  }
}
