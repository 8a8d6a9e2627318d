package dev.syllabus.activities.local;

import java.nio.file.Path;

/**
 * One local job's folder, {@code <phase folder>/jobs/<job name>/}, and the files in it: what to
 * run, its output, its process, how it ended, and whether a stop was asked for.
 *
 * @param dir the folder
 */
record JobFolder(Path dir) {

  /** What to run: a {@link LocalLaunch} as JSON. */
  Path launch() {
    return dir.resolve("launch.json");
  }

  /** The job's standard output and error, with a line from Syllabus at each start. */
  Path output() {
    return dir.resolve("output.log");
  }

  /** {@code <pid> <start time in epoch millis>} of the wrapper running the job. */
  Path pid() {
    return dir.resolve("pid");
  }

  /** The job's exit code, written by the wrapper as it ends. */
  Path exit() {
    return dir.resolve("exit");
  }

  /** The reason a stop was asked for; present from the stop until the job is resumed. */
  Path stopRequested() {
    return dir.resolve("stop-requested");
  }

  /** How many times the job was started again after it vanished. */
  Path restarts() {
    return dir.resolve("restarts");
  }

  /** Locked while a job is started, so that two workers never start it twice. */
  Path lock() {
    return dir.resolve("lock");
  }
}
