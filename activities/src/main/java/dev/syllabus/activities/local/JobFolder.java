package dev.syllabus.activities.local;

import dev.syllabus.workflows.job.JobRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One local job's folder, {@code <phase folder>/jobs/<job name>/}, and the files in it: what to
 * run, its output, its process, how it ended, and whether a stop was asked for. Public for {@code
 * syllabus logs}, which reads a job's output on the machine that runs it.
 *
 * @param dir the folder
 */
public record JobFolder(Path dir) {

  /** The folder of {@code job} in the artifact store at {@code store}. */
  public static JobFolder of(Path store, JobRef job) {
    return new JobFolder(store.resolve(job.phaseFolder()).resolve("jobs").resolve(job.name()));
  }

  /** What to run: a {@link LocalLaunch} as JSON. */
  Path launch() {
    return dir.resolve("launch.json");
  }

  /** The job's standard output and error, with a line from Syllabus at each start. */
  public Path output() {
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

  /**
   * The process its {@code pid} file names, while it runs (checked against the recorded start time,
   * so that a reused pid is not mistaken for it).
   */
  Optional<ProcessHandle> process() {
    if (!Files.exists(pid())) {
      return Optional.empty();
    }
    try {
      String[] parts = Files.readString(pid()).trim().split("\\s+");
      long pid = Long.parseLong(parts[0]);
      long startedMillis = parts.length > 1 ? Long.parseLong(parts[1]) : 0;
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(
              h ->
                  startedMillis == 0
                      || h.info()
                          .startInstant()
                          .map(i -> Math.abs(i.toEpochMilli() - startedMillis) < 2000)
                          .orElse(false));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether the job has ended, as anyone on this machine can tell: it left its exit code, or its
   * process is gone. A job whose process has not started yet has not ended.
   */
  public boolean ended() {
    return Files.exists(exit()) || (Files.exists(pid()) && process().isEmpty());
  }
}
