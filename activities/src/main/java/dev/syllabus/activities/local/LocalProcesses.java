package dev.syllabus.activities.local;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processes of local jobs: started in a session of their own under a small {@code sh} wrapper
 * that writes the exit code when the job ends, found again by their {@code pid} file after the
 * worker restarts, signalled as a whole process group, and started under a lock so that a phase
 * never has two trainers at once.
 */
final class LocalProcesses {
  private static final Logger log = LoggerFactory.getLogger(LocalProcesses.class);

  /**
   * Runs the job's command ({@code "$@"}) and writes its exit code to the file named by {@code $1}
   * (through a temporary file, so a reader never sees half of it), then exits with that code. It
   * ignores SIGTERM and friends itself (by trapping them, so the job it starts still gets the
   * default handling) and waits for the job, which saves its checkpoint and exits.
   */
  static final String WRAPPER =
      """
      exit_file=$1; shift
      "$@" &
      job=$!
      interrupted=0
      trap 'interrupted=1' TERM INT HUP
      while :; do
        wait "$job"; code=$?
        [ "$interrupted" = 1 ] || break
        interrupted=0
      done
      printf '%s\\n' "$code" > "$exit_file.tmp" && mv -f "$exit_file.tmp" "$exit_file"
      exit "$code"
      """;

  /** {@code setsid} on this machine, or null where there is none (then jobs share our group). */
  static final String SETSID = onPath("setsid");

  /** The processes this worker started, by job name: their exit codes need no file. */
  private final Map<String, Process> own = new ConcurrentHashMap<>();

  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  /** Something to do while a job's folder is locked against other threads and workers. */
  interface Locked<T> {
    T run() throws IOException;
  }

  /** Runs {@code work} holding the job's lock: among this worker's threads and among workers. */
  <T> T locked(String job, JobFolder folder, Locked<T> work) throws IOException {
    synchronized (locks.computeIfAbsent(job, n -> new Object())) {
      Files.createDirectories(folder.dir());
      try (FileChannel channel =
              FileChannel.open(folder.lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = channel.lock()) {
        return work.run();
      }
    }
  }

  /**
   * Starts the job's command under the wrapper, its output appended to the job's log after a line
   * saying {@code what} happened (and {@code why}, if given) and the launch's notes.
   */
  Process start(String job, JobFolder folder, LocalLaunch launch, String what, String why)
      throws IOException {
    List<String> command = new ArrayList<>();
    if (SETSID != null) {
      // A session of its own: Ctrl-C in the worker's terminal does not reach the job, the job
      // outlives the worker, and a stop can signal every process the job started.
      command.add(SETSID);
    }
    command.addAll(List.of("sh", "-c", WRAPPER, "syllabus-job", folder.exit().toString()));
    command.addAll(launch.command());
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("SYLLABUS_") || k.startsWith("TEMPORAL_"));
    env.putAll(launch.env());
    env.put(JobProcesses.MARKER, folder.dir().toAbsolutePath().normalize().toString());
    builder.directory(Path.of(launch.workingDir()).toFile());
    builder.redirectErrorStream(true);
    builder.redirectOutput(Redirect.appendTo(folder.output().toFile()));
    Files.createDirectories(Path.of(launch.workingDir()));
    StringBuilder header = new StringBuilder();
    header.append("syllabus: ").append(what).append(' ').append(job);
    header.append(" at ").append(Instant.now()).append('\n');
    if (why != null) {
      header.append("syllabus: ").append(why).append('\n');
    }
    launch.notes().forEach(n -> header.append("syllabus: ").append(n).append('\n'));
    Files.writeString(
        folder.output(),
        header,
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    Process process = builder.start();
    own.put(job, process);
    Instant started = process.info().startInstant().orElse(Instant.EPOCH);
    Files.writeString(folder.pid(), process.pid() + " " + started.toEpochMilli() + "\n");
    log.info("{} job {} (pid {}): {}", what, job, process.pid(), launch.command());
    return process;
  }

  /**
   * The job's process if it is running: the one this worker started, or the one its {@code pid}
   * file names ({@link JobFolder#process}).
   */
  Optional<ProcessHandle> live(String job, JobFolder folder) {
    Process started = own.get(job);
    if (started != null) {
      return started.isAlive() ? Optional.of(started.toHandle()) : Optional.empty();
    }
    return folder.process();
  }

  /** The job's exit code once it ended and left one. */
  Optional<Integer> exitCode(String job, JobFolder folder) {
    Process started = own.get(job);
    if (started != null) {
      return started.isAlive() ? Optional.empty() : Optional.of(started.exitValue());
    }
    if (Files.exists(folder.exit())) {
      try {
        return Optional.of(Integer.parseInt(Files.readString(folder.exit()).trim()));
      } catch (IOException | NumberFormatException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** Waits up to {@code millis} for the job's process to end. */
  void awaitExit(String job, JobFolder folder, long millis) throws InterruptedException {
    Process started = own.get(job);
    CompletableFuture<?> exit =
        started != null
            ? started.onExit()
            : live(job, folder).map(ProcessHandle::onExit).orElse(null);
    if (exit == null) {
      Thread.sleep(millis);
      return;
    }
    try {
      exit.get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // still running, or ended: the next look sees which
    }
  }

  /** Forgets the process this worker started for the job, once it is torn down. */
  void forget(String job) {
    own.remove(job);
  }

  /**
   * Stops, with SIGKILL, every process of the phase's jobs under {@code jobsDir} that no worker
   * follows any more: a leftover of an earlier attempt, or a trainer whose wrapper was killed. They
   * are past saving a checkpoint; what matters is that the phase never has two trainers at once.
   */
  static void stopLeftovers(Path jobsDir, String phase, String job) {
    for (ProcessHandle p : JobProcesses.under(jobsDir)) {
      log.warn(
          "stopping a leftover process of phase {} (pid {}) before starting job {}",
          phase,
          p.pid(),
          job);
      p.destroyForcibly();
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        log.warn("process {} did not end after SIGKILL", p.pid());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping process " + p.pid(), e);
      }
    }
  }

  /**
   * SIGTERM (or SIGKILL) to the job: to its whole process group when it runs in a session of its
   * own, so that processes it started stop too; else to the process alone.
   */
  static void signal(ProcessHandle process, boolean kill) {
    if (SETSID != null) {
      try {
        Process k =
            new ProcessBuilder("kill", kill ? "-KILL" : "-TERM", "--", "-" + process.pid())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.DISCARD)
                .start();
        if (k.waitFor(5, TimeUnit.SECONDS) && k.exitValue() == 0) {
          return;
        }
      } catch (IOException e) {
        log.warn("cannot signal the process group of {}: {}", process.pid(), e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (kill) {
      process.destroyForcibly();
    } else {
      process.destroy();
    }
  }

  private static String onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }
}
