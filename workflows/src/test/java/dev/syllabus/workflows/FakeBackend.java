package dev.syllabus.workflows;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.ArtifactRef.Kind;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A backend for workflow tests: each job advances {@code stride} steps per {@link #followJob},
 * saves a checkpoint every 100 steps and when stopped, and resumes from its latest checkpoint. A
 * test can hold a phase at a step, make its jobs fail, or hold its collect.
 */
final class FakeBackend implements PhaseActivities {
  static final int CHECKPOINT_EVERY = 100;

  /** One job as the fake "cluster" sees it. */
  static final class Job {
    final JobRef ref;
    final PhaseTask task;
    final long maxSteps;
    volatile long step;
    volatile long checkpoint = -1;
    volatile boolean stopRequested;
    volatile boolean preempted;
    volatile JobState state = JobState.RUNNING;
    final List<Long> startedFrom = new ArrayList<>();

    Job(JobRef ref, PhaseTask task) {
      this.ref = ref;
      this.task = task;
      this.maxSteps = task.steps().length();
    }
  }

  final List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
  final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final Map<String, PhaseTask> rendered = new ConcurrentHashMap<>();
  private final Map<String, Long> holdAt = new ConcurrentHashMap<>();
  private final Map<String, Integer> failuresLeft = new ConcurrentHashMap<>();
  private final Map<String, Long> preemptAt = new ConcurrentHashMap<>();
  private final Map<String, Boolean> readmitted = new ConcurrentHashMap<>();
  private final Map<String, CountDownLatch> collectGates = new ConcurrentHashMap<>();
  private final long stride;

  FakeBackend(long stride) {
    this.stride = stride;
  }

  /** Phase {@code phase}'s job stops advancing at {@code step} until {@link #release}. */
  void holdAt(String phase, long step) {
    holdAt.put(phase, step);
  }

  void release(String phase) {
    holdAt.remove(phase);
  }

  /**
   * Phase {@code phase}'s job is preempted at {@code step}, as Kueue preempts a Job: it saves a
   * checkpoint there and waits until {@link #readmit}, then carries on from it.
   */
  void preemptAt(String phase, long step) {
    preemptAt.put(phase, step);
  }

  void readmit(String phase) {
    readmitted.put(phase, true);
  }

  /** The next {@code times} jobs of {@code phase} fail halfway. */
  void failJobs(String phase, int times) {
    failuresLeft.put(phase, times);
  }

  /** Collect for {@code phase} waits until the returned latch is counted down. */
  CountDownLatch holdCollect(String phase) {
    CountDownLatch gate = new CountDownLatch(1);
    collectGates.put(phase, gate);
    return gate;
  }

  Job job(String phase) {
    return jobs.values().stream()
        .filter(j -> j.ref.phase().equals(phase))
        .max(java.util.Comparator.comparingInt(j -> j.ref.attempt()))
        .orElse(null);
  }

  long count(String prefix) {
    synchronized (calls) {
      return calls.stream().filter(c -> c.startsWith(prefix)).count();
    }
  }

  @Override
  public RenderedPhase render(PhaseTask task, int attempt) {
    JobRef ref = JobRef.of(task.runId(), task.index(), task.phase().name(), attempt);
    calls.add("render " + task.phase().name() + " " + attempt);
    rendered.put(ref.name(), task);
    return new RenderedPhase(ref, List.of(new Manifest("Job", ref.name(), "train", "kind: Job\n")));
  }

  @Override
  public void submitServers(RenderedPhase phase) {
    calls.add("submit servers " + phase.job().name());
  }

  @Override
  public ServersStatus awaitServers(RenderedPhase phase, long reportEveryMillis) {
    calls.add("await servers " + phase.job().name());
    return ServersStatus.READY;
  }

  @Override
  public JobSnapshot startJob(RenderedPhase phase) {
    JobRef ref = phase.job();
    calls.add("start " + ref.name());
    Job job = jobs.computeIfAbsent(ref.name(), n -> new Job(ref, rendered.get(n)));
    // A new attempt resumes from the latest checkpoint any earlier attempt of the phase saved.
    jobs.values().stream()
        .filter(j -> j.ref.phase().equals(ref.phase()) && j != job)
        .mapToLong(j -> j.checkpoint)
        .max()
        .ifPresent(c -> job.checkpoint = Math.max(job.checkpoint, c));
    job.step = Math.max(0, job.checkpoint);
    job.startedFrom.add(job.step);
    job.state = JobState.RUNNING;
    return snapshot(job);
  }

  @Override
  public JobSnapshot followJob(JobRef ref, JobSnapshot last, long reportEveryMillis) {
    Job job = jobs.get(ref.name());
    if (job.stopRequested) {
      job.checkpoint = job.step;
      job.stopRequested = false;
      job.state = JobState.STOPPED;
      return snapshot(job);
    }
    Integer failures = failuresLeft.get(ref.phase());
    if (failures != null && failures > 0 && job.step >= job.maxSteps / 2) {
      failuresLeft.put(ref.phase(), failures - 1);
      job.state = JobState.FAILED;
      return snapshot(job)
          .withState(JobState.FAILED, "exit code 3: simulated crash at step " + job.step);
    }
    if (job.preempted) {
      if (readmitted.remove(ref.phase()) == null) {
        sleep(reportEveryMillis);
        return preempted(job);
      }
      job.preempted = false;
      job.step = job.checkpoint;
      job.startedFrom.add(job.step);
      job.state = JobState.RUNNING;
      return snapshot(job);
    }
    Long preempt = preemptAt.get(ref.phase());
    if (preempt != null && job.step >= preempt) {
      preemptAt.remove(ref.phase());
      job.checkpoint = job.step;
      job.preempted = true;
      return preempted(job);
    }
    Long hold = holdAt.get(ref.phase());
    long target = Math.min(job.maxSteps, job.step + stride);
    if (preempt != null) {
      target = Math.min(target, preempt);
    }
    if (hold != null && target >= hold) {
      target = hold;
    }
    if (target == job.step && hold != null) {
      // As a real backend, wait up to the report period for a change that does not come.
      sleep(reportEveryMillis);
      return snapshot(job);
    }
    for (long s = job.step + 1; s <= target; s++) {
      if (s % CHECKPOINT_EVERY == 0) {
        job.checkpoint = s;
      }
    }
    job.step = target;
    if (job.step >= job.maxSteps) {
      job.checkpoint = job.maxSteps;
      job.state = JobState.SUCCEEDED;
    }
    return snapshot(job);
  }

  @Override
  public void stopJob(JobRef ref, String reason) {
    calls.add("stop " + ref.name() + " " + reason);
    jobs.get(ref.name()).stopRequested = true;
  }

  @Override
  public void resumeServers(JobRef ref) {
    calls.add("resume servers " + ref.name());
  }

  @Override
  public JobSnapshot resumeJob(JobRef ref) {
    calls.add("resume " + ref.name());
    Job job = jobs.get(ref.name());
    job.step = Math.max(0, job.checkpoint);
    job.startedFrom.add(job.step);
    job.state = JobState.RUNNING;
    return snapshot(job);
  }

  @Override
  public Handoff collect(PhaseTask task, JobRef ref) {
    calls.add("collect " + ref.name());
    CountDownLatch gate = collectGates.remove(task.phase().name());
    if (gate != null) {
      try {
        gate.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Job job = jobs.get(ref.name());
    if (job.checkpoint < 0) {
      return new Handoff(task.input(), null, "no checkpoint; the input passes on");
    }
    long global = task.steps().start() + job.checkpoint;
    String folder = ref.phaseFolder() + "/checkpoint-" + job.checkpoint;
    ArtifactRef model =
        new ArtifactRef(
            Kind.MODEL,
            "file:///store/" + folder,
            folder,
            ref.phase(),
            global,
            "sha256:m" + global);
    ArtifactRef optimizer =
        new ArtifactRef(
            Kind.OPTIMIZER,
            "file:///store/" + folder,
            folder,
            ref.phase(),
            global,
            "sha256:o" + global);
    ArtifactRef data =
        new ArtifactRef(
            Kind.DATA,
            "file:///store/" + ref.phaseFolder() + "/data.json",
            ref.phaseFolder() + "/data.json",
            ref.phase(),
            global,
            "sha256:d");
    return new Handoff(
        new Triplet(model, optimizer, data),
        job.checkpoint,
        "checkpoint-" + job.checkpoint + " handed on");
  }

  @Override
  public void teardown(JobRef ref, String reason) {
    calls.add("teardown " + ref.name());
    Job job = jobs.get(ref.name());
    if (job != null && !job.state.hasEnded()) {
      job.state = JobState.STOPPED;
    }
  }

  /** Whether phase {@code phase} was started with the optimizer of its input (for carry tests). */
  boolean carried(String phase) {
    Job job = job(phase);
    return job != null && job.task.phase().optimizer().state() == OptimizerState.CARRY;
  }

  private static JobSnapshot preempted(Job job) {
    return new JobSnapshot(
        JobState.PREEMPTED,
        snapshot(job).progress(),
        job.step,
        null,
        "preempted by Kueue: Preempted to accommodate a workload due to prioritization in the"
            + " ClusterQueue; waits to be admitted again, then resumes from checkpoint "
            + job.checkpoint,
        false,
        true);
  }

  private static JobSnapshot snapshot(Job job) {
    return JobSnapshot.of(
        job.state,
        new JobProgress(
            job.step,
            job.maxSteps,
            1.0 / (1 + job.step),
            null,
            job.checkpoint < 0 ? null : job.checkpoint),
        job.step,
        null,
        null);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
