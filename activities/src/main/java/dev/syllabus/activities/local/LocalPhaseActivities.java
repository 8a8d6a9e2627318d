package dev.syllabus.activities.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Heartbeating;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Progress;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
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
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code local} backend: runs a phase's training container command as a process on this
 * machine, with its output in a log file that is followed for progress, stopped with SIGTERM (the
 * trainer saves a checkpoint and exits 0).
 *
 * <p>Each attempt has a folder {@code <phase folder>/jobs/<job name>/} holding {@code launch.json}
 * (what to run), {@code output.log}, {@code pid}, {@code exit} and, once a stop was asked for,
 * {@code stop-requested}. The phase's checkpoints go to the phase folder itself, the job's {@code
 * SYLLABUS_OUTPUT_DIR}.
 *
 * <p>A job outlives the worker that started it: it runs in a session of its own under a small
 * {@code sh} wrapper that writes its exit code to {@code exit} when it ends, so a worker that was
 * restarted follows a job that still runs (by its {@code pid} file), reads the result of one that
 * ended while no worker was up, and starts again, from its latest checkpoint, one that died with no
 * exit code (the machine or the job was killed). Starting a job happens under a lock on the job's
 * folder, after every leftover process of the phase is stopped, so that a phase never has two
 * trainers at once.
 */
public final class LocalPhaseActivities implements PhaseActivities {
  private static final Logger log = LoggerFactory.getLogger(LocalPhaseActivities.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** How long a stopped job may take to save its checkpoint before it is killed. */
  static final long STOP_GRACE_SECONDS = 300;

  /** How long teardown waits for a job it stops before killing it. */
  static final long TEARDOWN_GRACE_SECONDS = 30;

  /** How many times a job whose process vanished is started again before the attempt fails. */
  static final int MAX_RESTARTS = 3;

  private static final long POLL_MILLIS = 200;
  private static final int MAX_READ = 4 << 20;

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

  private final Renderer renderer;
  private final ArtifactStore store;
  private final Path repoRoot;
  private final Map<String, Process> processes = new ConcurrentHashMap<>();

  public LocalPhaseActivities(Renderer renderer, ArtifactStore store, Path repoRoot) {
    this.renderer = renderer;
    this.store = store;
    this.repoRoot = repoRoot.toAbsolutePath().normalize();
  }

  @Override
  public RenderedPhase render(PhaseTask task, int attempt) {
    try {
      return renderer.render(task, attempt);
    } catch (Kubeconfigs.Broken e) {
      throw ApplicationFailure.newNonRetryableFailure(e.toString(), "RenderFailed");
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "RenderFailed");
    }
  }

  @Override
  public void submitServers(RenderedPhase rendered) {
    throw noServersHere(rendered);
  }

  @Override
  public ServersStatus awaitServers(RenderedPhase rendered, long reportEveryMillis) {
    throw noServersHere(rendered);
  }

  /** The local backend runs a phase's Job as a process; servers need a cluster. */
  private static ApplicationFailure noServersHere(RenderedPhase rendered) {
    String servers =
        String.join(
            ", ",
            rendered.manifests().stream()
                .filter(m -> !m.kind().equals("Job") && !m.kind().equals("ConfigMap"))
                .map(m -> m.kind() + " " + m.name())
                .toList());
    return ApplicationFailure.newNonRetryableFailure(
        "phase "
            + rendered.job().phase()
            + " runs servers ("
            + servers
            + "); the local backend runs only a phase's Job: use the kubernetes backend",
        "CannotRunLocally");
  }

  @Override
  public JobSnapshot startJob(RenderedPhase rendered) {
    JobRef job = rendered.job();
    Path dir = jobDir(job);
    LocalLaunch launch;
    try {
      Files.createDirectories(dir);
      launch = LocalLaunch.prepare(rendered, store.root(), repoRoot, dir);
      Files.writeString(dir.resolve("launch.json"), JSON.writeValueAsString(launch));
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "CannotRunLocally");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    synchronized (lockOf(job)) {
      try (FileLock lock = lockFolder(dir)) {
        if (!Files.exists(dir.resolve("pid"))) {
          stopLeftovers(job);
          return launch(job, launch, dir, "starting", null);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    log.info("job {} was already started; adopting it", job.name());
    return restartIfVanished(job, launch, followFrom(job, launch));
  }

  /** A snapshot to follow an adopted job from: its log from the start, its state as it is now. */
  private JobSnapshot followFrom(JobRef job, LocalLaunch launch) {
    return look(
        job,
        launch.maxSteps(),
        JobSnapshot.pending(launch.maxSteps()).withState(JobState.RUNNING, null));
  }

  @Override
  public JobSnapshot resumeJob(JobRef job) {
    Path dir = jobDir(job);
    LocalLaunch launch = readLaunch(job);
    synchronized (lockOf(job)) {
      try (FileLock lock = lockFolder(dir)) {
        if (liveProcess(job).isPresent()) {
          // Resumed already by an earlier try of this activity, or still saving its checkpoint
          // after a stop: follow it; if it stops, the phase resumes it again.
          return followFrom(job, launch);
        }
        stopLeftovers(job);
        Files.deleteIfExists(dir.resolve("stop-requested"));
        Files.deleteIfExists(dir.resolve("exit"));
        Files.deleteIfExists(dir.resolve("restarts"));
        return launch(job, launch, dir, "resuming", null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Starts the job again when its process is gone and left no exit code: the machine, or the job
   * with its wrapper, was killed while no worker watched. It carries on from its latest checkpoint.
   * After {@link #MAX_RESTARTS} such restarts the snapshot says FAILED instead.
   */
  private JobSnapshot restartIfVanished(JobRef job, LocalLaunch launch, JobSnapshot seen) {
    if (!vanished(seen)) {
      return seen;
    }
    Path dir = jobDir(job);
    synchronized (lockOf(job)) {
      try (FileLock lock = lockFolder(dir)) {
        JobSnapshot now = look(job, launch.maxSteps(), seen);
        if (!vanished(now)) {
          return now; // another worker restarted it meanwhile, or it left its exit code after all
        }
        Path restarts = dir.resolve("restarts");
        int done = Files.exists(restarts) ? Integer.parseInt(Files.readString(restarts).trim()) : 0;
        if (done >= MAX_RESTARTS) {
          return now.withState(
              JobState.FAILED,
              "the job's process vanished "
                  + (done + 1)
                  + " times with no exit code; giving up (is something killing it?)");
        }
        Files.writeString(restarts, (done + 1) + "\n");
        stopLeftovers(job);
        Long checkpoint = checkpointStep(job);
        String from = checkpoint == null ? "the start" : "checkpoint " + checkpoint;
        log.warn(
            "job {} is gone and left no exit code; starting it again from {}", job.name(), from);
        JobSnapshot started =
            launch(
                job,
                launch,
                dir,
                "restarting",
                "its process was gone and left no exit code; it carries on from " + from);
        return new JobSnapshot(
            JobState.RUNNING,
            now.step(),
            now.maxSteps(),
            now.loss(),
            now.evalLoss(),
            checkpoint,
            Math.max(now.logOffset(), started.logOffset()),
            null,
            null);
      } catch (IOException | NumberFormatException e) {
        throw new IllegalStateException("cannot restart job " + job.name() + ": " + e, e);
      }
    }
  }

  private static boolean vanished(JobSnapshot seen) {
    return seen.state() == JobState.FAILED
        && seen.exitCode() == null
        && VANISHED.equals(seen.message());
  }

  private JobSnapshot launch(JobRef job, LocalLaunch launch, Path dir, String what, String why) {
    Path output = dir.resolve("output.log");
    List<String> command = new ArrayList<>();
    if (SETSID != null) {
      // A session of its own: Ctrl-C in the worker's terminal does not reach the job, the job
      // outlives the worker, and a stop can signal every process the job started.
      command.add(SETSID);
    }
    command.addAll(List.of("sh", "-c", WRAPPER, "syllabus-job", dir.resolve("exit").toString()));
    command.addAll(launch.command());
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("SYLLABUS_") || k.startsWith("TEMPORAL_"));
    env.putAll(launch.env());
    env.put(JobProcesses.MARKER, dir.toAbsolutePath().normalize().toString());
    builder.directory(Path.of(launch.workingDir()).toFile());
    builder.redirectErrorStream(true);
    builder.redirectOutput(Redirect.appendTo(output.toFile()));
    try {
      Files.createDirectories(Path.of(launch.workingDir()));
      StringBuilder header = new StringBuilder();
      header
          .append("syllabus: ")
          .append(what)
          .append(' ')
          .append(job.name())
          .append(" at ")
          .append(Instant.now())
          .append('\n');
      if (why != null) {
        header.append("syllabus: ").append(why).append('\n');
      }
      launch.notes().forEach(n -> header.append("syllabus: ").append(n).append('\n'));
      Files.writeString(
          output,
          header,
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      long offset = Files.size(output);
      Process process = builder.start();
      processes.put(job.name(), process);
      Instant started = process.info().startInstant().orElse(Instant.EPOCH);
      Files.writeString(dir.resolve("pid"), process.pid() + " " + started.toEpochMilli() + "\n");
      log.info("{} job {} (pid {}): {}", what, job.name(), process.pid(), launch.command());
      return new JobSnapshot(
          JobState.RUNNING,
          0,
          launch.maxSteps(),
          null,
          null,
          checkpointStep(job),
          offset,
          null,
          null);
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "cannot start "
              + launch.command().get(0)
              + " for job "
              + job.name()
              + ": "
              + e.getMessage(),
          "CannotStartJob");
    }
  }

  @Override
  public JobSnapshot followJob(JobRef job, JobSnapshot last, long reportEveryMillis) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    JobSnapshot from = context.getHeartbeatDetails(JobSnapshot.class).orElse(last);
    LocalLaunch launch = readLaunch(job);
    long now = System.currentTimeMillis();
    long reportAt = now + reportEveryMillis;
    long latest = now + Math.max(10 * reportEveryMillis, 60_000);
    JobSnapshot seen = from;
    while (true) {
      seen = restartIfVanished(job, launch, look(job, launch.maxSteps(), seen));
      if (seen.state().hasEnded() || seen.state() != from.state()) {
        return seen;
      }
      now = System.currentTimeMillis();
      boolean progressed =
          seen.step() != from.step()
              || !Objects.equals(seen.checkpointStep(), from.checkpointStep());
      if ((now >= reportAt && progressed) || now >= latest) {
        return seen;
      }
      context.heartbeat(seen);
      waitForExit(job, POLL_MILLIS);
    }
  }

  /** The job now: its progress read from new output, its checkpoint, and whether it has ended. */
  private JobSnapshot look(JobRef job, long maxSteps, JobSnapshot before) {
    Path dir = jobDir(job);
    Optional<Integer> exit = exitCode(job);
    // Read output after learning of the exit, so the last lines are included.
    Progress progress = new Progress(before.step(), maxSteps, before.loss(), before.evalLoss());
    long offset = before.logOffset();
    Path output = dir.resolve("output.log");
    try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "r")) {
      long length = file.length();
      while (offset < length) {
        int n = (int) Math.min(MAX_READ, length - offset);
        byte[] bytes = new byte[n];
        file.seek(offset);
        file.readFully(bytes);
        int consumed = 0;
        for (int i = 0; i < n; i++) {
          if (bytes[i] == '\n' || bytes[i] == '\r') {
            progress =
                progress.read(new String(bytes, consumed, i - consumed, StandardCharsets.UTF_8));
            consumed = i + 1;
          }
        }
        if (consumed == 0) {
          break; // a line longer than MAX_READ, or one still being written
        }
        offset += consumed;
      }
    } catch (IOException e) {
      if (Files.exists(output)) {
        throw new UncheckedIOException(e);
      }
    }
    Long checkpoint = checkpointStep(job);
    JobState state = JobState.RUNNING;
    Integer exitCode = null;
    String message = null;
    if (exit.isPresent()) {
      exitCode = exit.get();
      boolean stopped = Files.exists(dir.resolve("stop-requested"));
      boolean finished = checkpoint != null && checkpoint >= maxSteps;
      if (exitCode == 0 && finished) {
        state = JobState.SUCCEEDED;
      } else if (stopped) {
        state = JobState.STOPPED;
        message =
            "stopped at checkpoint "
                + checkpoint
                + (exitCode == 0 ? "" : " (exit code " + exitCode + ")");
      } else if (exitCode == 0) {
        state = JobState.FAILED;
        message =
            "exited 0 before its last step (latest complete checkpoint: "
                + checkpoint
                + " of "
                + maxSteps
                + ")";
      } else {
        state = JobState.FAILED;
        message = "exit code " + exitCode + ": " + lastLine(output);
      }
    } else if (liveProcess(job).isEmpty()) {
      if (Files.exists(dir.resolve("stop-requested"))) {
        state = JobState.STOPPED; // killed after its grace period, wrapper and all
        message = "stopped at checkpoint " + checkpoint + " (killed)";
      } else {
        state = JobState.FAILED;
        message = VANISHED;
      }
    }
    // A trainer logs every few steps but checkpoints where it stopped: show the later of the two.
    long step = Math.max(progress.step(), checkpoint == null ? 0 : checkpoint);
    return new JobSnapshot(
        state,
        step,
        maxSteps,
        progress.loss(),
        progress.evalLoss(),
        checkpoint,
        offset,
        exitCode,
        message);
  }

  @Override
  public void stopJob(JobRef job, String reason) {
    Path dir = jobDir(job);
    try {
      Files.writeString(dir.resolve("stop-requested"), reason + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    liveProcess(job)
        .ifPresent(
            p -> {
              log.info("stopping job {} (pid {}): {}", job.name(), p.pid(), reason);
              signal(p, false);
              p.onExit()
                  .orTimeout(STOP_GRACE_SECONDS, TimeUnit.SECONDS)
                  .exceptionally(
                      e -> {
                        log.warn(
                            "job {} did not stop within {} s; killing it",
                            job.name(),
                            STOP_GRACE_SECONDS);
                        signal(p, true);
                        return p;
                      });
            });
  }

  @Override
  public Handoff collect(PhaseTask task, JobRef job) {
    return Heartbeating.call(() -> store.handOff(task, job));
  }

  @Override
  public void teardown(JobRef job, String reason) {
    Optional<ProcessHandle> live = liveProcess(job);
    if (live.isPresent()) {
      ProcessHandle p = live.get();
      log.info("tearing down job {} (pid {}): {}", job.name(), p.pid(), reason);
      try {
        Files.writeString(jobDir(job).resolve("stop-requested"), "teardown: " + reason + "\n");
      } catch (IOException e) {
        log.warn("cannot mark {} as stopped: {}", job.name(), e.getMessage());
      }
      signal(p, false);
      try {
        p.onExit().get(TEARDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
        signal(p, true);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        signal(p, true);
      }
    }
    // Processes of the job that outlived their wrapper: nothing is left to save them.
    JobProcesses.of(jobDir(job)).forEach(p -> signal(p, true));
    processes.remove(job.name());
  }

  // --- the job's files and process ----------------------------------------------------------

  /** What {@link #look} says of a job whose process is gone with no exit code and no stop asked. */
  static final String VANISHED =
      "the job's process is gone and left no exit code (was the machine or the job killed?)";

  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  /** Serialises starting a job among this worker's threads (a file lock is per process). */
  private Object lockOf(JobRef job) {
    return locks.computeIfAbsent(job.name(), n -> new Object());
  }

  /** Serialises starting a job among workers: a lock on {@code <job folder>/lock}. */
  private static FileLock lockFolder(Path dir) throws IOException {
    Files.createDirectories(dir);
    FileChannel channel =
        FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.lock();
      return lock; // closing the lock's channel releases it
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * Stops, with SIGKILL, every process of the phase's jobs that no worker follows any more: a
   * leftover of an earlier attempt, or a trainer whose wrapper was killed. They are past saving a
   * checkpoint; what matters is that the phase never has two trainers at once.
   */
  private void stopLeftovers(JobRef job) {
    for (ProcessHandle p : JobProcesses.under(jobDir(job).getParent())) {
      log.warn(
          "stopping a leftover process of phase {} (pid {}) before starting job {}",
          job.phase(),
          p.pid(),
          job.name());
      p.destroyForcibly();
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
        log.warn("process {} did not end after SIGKILL", p.pid());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping process " + p.pid(), e);
      }
    }
  }

  /** {@code setsid} on this machine, or null where there is none (then jobs share our group). */
  static final String SETSID = onPath("setsid");

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

  /**
   * SIGTERM (or SIGKILL) to the job: to its whole process group when it runs in a session of its
   * own, so that processes it started stop too; else to the process alone.
   */
  private static void signal(ProcessHandle process, boolean kill) {
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

  Path jobDir(JobRef job) {
    return store.phaseFolder(job).resolve("jobs").resolve(job.name());
  }

  private LocalLaunch readLaunch(JobRef job) {
    Path file = jobDir(job).resolve("launch.json");
    try {
      return JSON.readValue(file.toFile(), LocalLaunch.class);
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "job " + job.name() + " was never started here (no " + file + ")", "UnknownJob");
    }
  }

  private Long checkpointStep(JobRef job) {
    return store
        .latestCheckpoint(store.phaseFolder(job))
        .map(ArtifactStore.Checkpoint::step)
        .orElse(null);
  }

  /**
   * The job's process if it is running: the one this worker started, or the one its {@code pid}
   * file names (checked against the recorded start time, so a reused pid is not mistaken for it).
   */
  private Optional<ProcessHandle> liveProcess(JobRef job) {
    Process own = processes.get(job.name());
    if (own != null) {
      return own.isAlive() ? Optional.of(own.toHandle()) : Optional.empty();
    }
    Path pidFile = jobDir(job).resolve("pid");
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    try {
      String[] parts = Files.readString(pidFile).trim().split("\\s+");
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

  private Optional<Integer> exitCode(JobRef job) {
    Process own = processes.get(job.name());
    if (own != null && !own.isAlive()) {
      return Optional.of(own.exitValue());
    }
    if (own != null) {
      return Optional.empty();
    }
    Path exit = jobDir(job).resolve("exit");
    if (Files.exists(exit)) {
      try {
        return Optional.of(Integer.parseInt(Files.readString(exit).trim()));
      } catch (IOException | NumberFormatException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private void waitForExit(JobRef job, long millis) {
    Process own = processes.get(job.name());
    CompletableFuture<?> exit =
        own != null ? own.onExit() : liveProcess(job).map(ProcessHandle::onExit).orElse(null);
    try {
      if (exit != null) {
        exit.get(millis, TimeUnit.MILLISECONDS);
      } else {
        Thread.sleep(millis);
      }
    } catch (TimeoutException e) {
      // still running
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while following " + job.name(), e);
    } catch (java.util.concurrent.ExecutionException e) {
      // ended; the next look sees it
    }
  }

  private static String lastLine(Path output) {
    try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "r")) {
      long length = file.length();
      int n = (int) Math.min(4096, length);
      byte[] bytes = new byte[n];
      file.seek(length - n);
      file.readFully(bytes);
      String[] lines = new String(bytes, StandardCharsets.UTF_8).split("[\r\n]+");
      for (int i = lines.length - 1; i >= 0; i--) {
        if (!lines[i].isBlank()) {
          return lines[i].strip();
        }
      }
      return "(no output)";
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }
}
