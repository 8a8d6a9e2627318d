package dev.syllabus.starter;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Commands that serve (dev, worker) show what the worker does; the others stay quiet. */
final class Logging {
  private Logging() {}

  static void showWorkerActivity() {
    ((Logger) LoggerFactory.getLogger("dev.syllabus")).setLevel(Level.INFO);
  }
}
