package dev.syllabus.activities.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.JobContract;
import dev.syllabus.activities.JobFollower;
import dev.syllabus.activities.PhaseCore;
import dev.syllabus.activities.Progress;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.StoreBacked;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code local} backend: runs a phase's training container command as a process on this
 * machine, with its output in a log file that is followed for progress, stopped with SIGTERM (the
 * trainer saves a checkpoint and exits 0).
 *
 * <p>Each attempt has a {@link JobFolder}; the phase's checkpoints go to the phase folder itself,
 * the job's {@code SYLLABUS_OUTPUT_DIR}.
 *
 * <p>A job outlives the worker that started it ({@link LocalProcesses}), so a worker that was
 * restarted follows a job that still runs, reads the result of one that ended while no worker was
 * up, and starts again, from its latest checkpoint, one that died with no exit code (the machine or
 * the job was killed): here the backend plays the part a Job controller plays on Kubernetes.
 */
public final class LocalPhaseActivities implements PhaseActivities, StoreBacked {
  private static final Logger log = LoggerFactory.getLogger(LocalPhaseActivities.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** How long a stopped job may take to save its checkpoint before it is killed. */
  static final long STOP_GRACE_SECONDS = 300;

  /** How long teardown waits for a job it stops before killing it. */
  static final long TEARDOWN_GRACE_SECONDS = 30;

  /** How many times a job whose process vanished is started again before the attempt fails. */
  static final int MAX_RESTARTS = 3;

  /** How often a followed job's log is read: a file gives no notice of new lines. */
  private static final long POLL_MILLIS = 200;

  /** What {@link #look} says of a job whose process is gone with no exit code and no stop asked. */
  static final String VANISHED =
      "the job's process is gone and left no exit code (was the machine or the job killed?)";

  /** {@code setsid} on this machine, or null where there is none (then jobs share our group). */
  static final String SETSID = LocalProcesses.SETSID;

  private final PhaseCore core;
  private final ArtifactStore store;
  private final Path repoRoot;
  private final LocalProcesses processes = new LocalProcesses();
  private final OutputLog logs = new OutputLog();

  public LocalPhaseActivities(Renderer renderer, ArtifactStore store, Path repoRoot) {
    this.core = new PhaseCore(renderer, store);
    this.store = store;
    this.repoRoot = repoRoot.toAbsolutePath().normalize();
  }

  @Override
  public ArtifactStore store() {
    return core.store();
  }

  @Override
  public String backendName() {
    return "local";
  }

  @Override
  public RenderedPhase render(PhaseTask task, int attempt) {
    return core.render(task, attempt);
  }

  @Override
  public Handoff collect(PhaseTask task, JobRef job) {
    return core.collect(task, job);
  }

  // --- servers: none here ---------------------------------------------------------------------

  @Override
  public void submitServers(RenderedPhase rendered) {
    throw noServersHere(rendered);
  }

  @Override
  public ServersStatus awaitServers(RenderedPhase rendered, long reportEveryMillis) {
    throw noServersHere(rendered);
  }

  /** No phase here has servers, so there are none to start again. */
  @Override
  public void resumeServers(JobRef job) {}

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

  // --- start, resume ------------------------------------------------------------------------

  @Override
  public JobSnapshot startJob(RenderedPhase rendered) {
    JobRef job = rendered.job();
    JobFolder folder = folder(job);
    LocalLaunch launch;
    try {
      Files.createDirectories(folder.dir());
      launch = LocalLaunch.prepare(rendered, store.root(), repoRoot, folder.dir());
      Files.writeString(folder.launch(), JSON.writeValueAsString(launch));
      JobSnapshot started =
          processes.locked(
              job.name(),
              folder,
              () ->
                  Files.exists(folder.pid()) ? null : launch(job, launch, "starting", null, null));
      if (started != null) {
        return started;
      }
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "CannotRunLocally");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    log.info("job {} was already started; adopting it", job.name());
    return restartIfVanished(job, launch, followFrom(job, launch));
  }

  /** A snapshot to follow an adopted job from: its log from the start, its state as it is now. */
  private JobSnapshot followFrom(JobRef job, LocalLaunch launch) {
    return look(
        job,
        launch,
        JobSnapshot.of(JobState.RUNNING, JobProgress.none(launch.maxSteps()), 0, null, null));
  }

  @Override
  public JobSnapshot resumeJob(JobRef job) {
    JobFolder folder = folder(job);
    LocalLaunch launch = readLaunch(job);
    try {
      return processes.locked(
          job.name(),
          folder,
          () -> {
            if (processes.live(job.name(), folder).isPresent()) {
              // Resumed already by an earlier try of this activity, or still saving its checkpoint
              // after a stop: follow it; if it stops, the phase resumes it again.
              return followFrom(job, launch);
            }
            Files.deleteIfExists(folder.stopRequested());
            Files.deleteIfExists(folder.exit());
            Files.deleteIfExists(folder.restarts());
            return launch(job, launch, "resuming", null, null);
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
    JobFolder folder = folder(job);
    try {
      return processes.locked(
          job.name(),
          folder,
          () -> {
            JobSnapshot now = look(job, launch, seen);
            if (!vanished(now)) {
              return now; // restarted meanwhile by another worker, or it left its exit code
            }
            int done =
                Files.exists(folder.restarts())
                    ? Integer.parseInt(Files.readString(folder.restarts()).trim())
                    : 0;
            if (done >= MAX_RESTARTS) {
              return now.withState(
                  JobState.FAILED,
                  "the job's process vanished "
                      + (done + 1)
                      + " times with no exit code; giving up (is something killing it?)");
            }
            Files.writeString(folder.restarts(), (done + 1) + "\n");
            Long checkpoint = core.checkpointStep(job);
            String from = checkpoint == null ? "the start" : "checkpoint " + checkpoint;
            log.warn(
                "job {} is gone and left no exit code; starting it again from {}",
                job.name(),
                from);
            String why = "its process was gone and left no exit code; it carries on from " + from;
            return launch(job, launch, "restarting", why, now);
          });
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException("cannot restart job " + job.name() + ": " + e, e);
    }
  }

  private static boolean vanished(JobSnapshot seen) {
    return seen.state() == JobState.FAILED
        && seen.exitCode() == null
        && VANISHED.equals(seen.message());
  }

  /**
   * Starts the job's process, after stopping every leftover process of the phase; {@code before} is
   * the last look at the job, whose progress and log cursor carry on, or null for a fresh one.
   */
  private JobSnapshot launch(
      JobRef job, LocalLaunch launch, String what, String why, JobSnapshot before)
      throws IOException {
    JobFolder folder = folder(job);
    LocalProcesses.stopLeftovers(folder.dir().getParent(), job.phase(), job.name());
    try {
      processes.start(job.name(), folder, launch, what, why);
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
    JobSnapshot from =
        before != null
            ? before
            : JobSnapshot.of(JobState.RUNNING, JobProgress.none(launch.maxSteps()), 0, null, null);
    // Reads what the job printed before (and the header just written), so that the next look
    // reads only what comes next.
    OutputLog.Read read = read(folder, launch, from);
    return JobSnapshot.of(
        JobState.RUNNING,
        progress(read, launch, core.checkpointStep(job)),
        read.lines(),
        null,
        null);
  }

  // --- follow ------------------------------------------------------------------------------

  @Override
  public JobSnapshot followJob(JobRef job, JobSnapshot last, long reportEveryMillis) {
    LocalLaunch launch = readLaunch(job);
    JobFolder folder = folder(job);
    return JobFollower.follow(
        last,
        reportEveryMillis,
        new JobFollower.Watch() {
          @Override
          public JobSnapshot look(JobSnapshot before) {
            return restartIfVanished(
                job, launch, LocalPhaseActivities.this.look(job, launch, before));
          }

          @Override
          public void awaitChange(long millis) throws InterruptedException {
            processes.awaitExit(job.name(), folder, Math.min(millis, POLL_MILLIS));
          }
        });
  }

  /** The job now: its progress read from new output, its checkpoint, and whether it has ended. */
  private JobSnapshot look(JobRef job, LocalLaunch launch, JobSnapshot before) {
    JobFolder folder = folder(job);
    Optional<Integer> exit = processes.exitCode(job.name(), folder);
    // Read output after learning of the exit, so the last lines are included.
    OutputLog.Read read = read(folder, launch, before);
    Long checkpoint = core.checkpointStep(job);
    JobProgress progress = progress(read, launch, checkpoint);
    boolean stopAsked = Files.exists(folder.stopRequested());
    if (exit.isPresent()) {
      JobContract.Verdict verdict =
          JobContract.verdict(exit.get(), stopAsked, checkpoint, launch.maxSteps());
      String message = verdict.message();
      if (verdict.state() == JobState.FAILED && exit.get() != 0) {
        message += ": " + OutputLog.lastLine(folder.output());
      }
      return JobSnapshot.of(verdict.state(), progress, read.lines(), exit.get(), message);
    }
    if (processes.live(job.name(), folder).isPresent()) {
      return JobSnapshot.of(JobState.RUNNING, progress, read.lines(), null, null);
    }
    if (stopAsked) {
      // Killed after its grace period, wrapper and all.
      JobContract.Verdict verdict = JobContract.verdict(null, true, checkpoint, launch.maxSteps());
      return JobSnapshot.of(
          verdict.state(), progress, read.lines(), null, verdict.message() + " (killed)");
    }
    return JobSnapshot.of(JobState.FAILED, progress, read.lines(), null, VANISHED);
  }

  private OutputLog.Read read(JobFolder folder, LocalLaunch launch, JobSnapshot before) {
    JobProgress was = before.progress();
    return logs.read(
        folder.output(),
        before.logLines(),
        new Progress(was.step(), launch.maxSteps(), was.loss(), was.evalLoss()));
  }

  /** A trainer logs every few steps but checkpoints where it stopped: the later of the two. */
  private static JobProgress progress(OutputLog.Read read, LocalLaunch launch, Long checkpoint) {
    return new JobProgress(
        Math.max(read.progress().step(), checkpoint == null ? 0 : checkpoint),
        launch.maxSteps(),
        read.progress().loss(),
        read.progress().evalLoss(),
        checkpoint);
  }

  // --- stop, teardown ------------------------------------------------------------------------

  @Override
  public void stopJob(JobRef job, String reason) {
    JobFolder folder = folder(job);
    try {
      Files.writeString(folder.stopRequested(), reason + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    processes
        .live(job.name(), folder)
        .ifPresent(
            p -> {
              log.info("stopping job {} (pid {}): {}", job.name(), p.pid(), reason);
              LocalProcesses.signal(p, false);
              p.onExit()
                  .orTimeout(STOP_GRACE_SECONDS, TimeUnit.SECONDS)
                  .exceptionally(
                      e -> {
                        log.warn(
                            "job {} did not stop within {} s; killing it",
                            job.name(),
                            STOP_GRACE_SECONDS);
                        LocalProcesses.signal(p, true);
                        return p;
                      });
            });
  }

  @Override
  public void teardown(JobRef job, String reason) {
    JobFolder folder = folder(job);
    Optional<ProcessHandle> live = processes.live(job.name(), folder);
    if (live.isPresent()) {
      ProcessHandle p = live.get();
      log.info("tearing down job {} (pid {}): {}", job.name(), p.pid(), reason);
      try {
        Files.writeString(folder.stopRequested(), "teardown: " + reason + "\n");
      } catch (IOException e) {
        log.warn("cannot mark {} as stopped: {}", job.name(), e.getMessage());
      }
      LocalProcesses.signal(p, false);
      try {
        p.onExit().get(TEARDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        LocalProcesses.signal(p, true);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        LocalProcesses.signal(p, true);
      }
    }
    // Processes of the job that outlived their wrapper: nothing is left to save them.
    JobProcesses.of(folder.dir()).forEach(p -> LocalProcesses.signal(p, true));
    processes.forget(job.name());
    logs.forget(folder.output());
  }

  // --- the job's folder ------------------------------------------------------------------------

  JobFolder folder(JobRef job) {
    return new JobFolder(store.phaseFolder(job).resolve("jobs").resolve(job.name()));
  }

  Path jobDir(JobRef job) {
    return folder(job).dir();
  }

  private LocalLaunch readLaunch(JobRef job) {
    Path file = folder(job).launch();
    try {
      return JSON.readValue(file.toFile(), LocalLaunch.class);
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "job " + job.name() + " was never started here (no " + file + ")", "UnknownJob");
    }
  }
}
