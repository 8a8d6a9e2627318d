package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.JobFollower;
import dev.syllabus.activities.PhaseCore;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.StoreBacked;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code kubernetes} backend: creates a phase's rendered objects in one namespace with the
 * fabric8 client ({@link PhaseObjects}), follows them through informers ({@link ClusterCache}) and
 * the trainer's pod log ({@link PodLogs}) with no polling, turns what it sees into a snapshot
 * ({@link JobView}), pauses by suspending the Job (or deactivating its {@link Kueue} Workload) and
 * scaling its {@link Servers} to zero, and deletes what the phase left running.
 *
 * <p>A stop is recorded on the Job itself ({@value JobView#STOP_ANNOTATION}), so that a new worker
 * knows a suspended Job was stopped on purpose. Reads never change the cluster: each change is a
 * step the phase workflow takes.
 */
public final class KubernetesPhaseActivities
    implements PhaseActivities, StoreBacked, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KubernetesPhaseActivities.class);

  /** How long a Job may be missing from what the informer shows before it counts as deleted. */
  static final long MISSING_GRACE_MILLIS = 30_000;

  private final PhaseCore core;
  private final KubernetesClient client;
  private final String namespace;
  private final PodLogs logs;
  private final Map<String, Long> missingSince = new ConcurrentHashMap<>();
  private volatile Cluster cluster;

  /** The informers and what works through them, made on first use. */
  private record Cluster(ClusterCache cache, PhaseObjects objects, Servers servers, Kueue kueue) {}

  /**
   * @param store the artifact store as this worker sees it: the PVC the phases' Jobs mount as
   *     {@code syllabus-artifacts}, mounted here too
   */
  public KubernetesPhaseActivities(
      Renderer renderer, ArtifactStore store, KubernetesClient client, String namespace) {
    this.core = new PhaseCore(renderer, store);
    this.client = client;
    this.namespace = namespace;
    this.logs = new PodLogs(client, namespace, this::wake);
  }

  public String namespace() {
    return namespace;
  }

  /** The informers, started on first use: one list and watch per kind for the worker's life. */
  private Cluster cluster() {
    Cluster c = cluster;
    if (c == null) {
      synchronized (this) {
        if (cluster == null) {
          ClusterCache cache;
          try {
            cache = new ClusterCache(client, namespace, 60_000);
          } catch (KubernetesClientException e) {
            throw ClusterFailures.of("watch the phases' objects", namespace, e);
          }
          PhaseObjects objects = new PhaseObjects(client, namespace, cache);
          cluster =
              new Cluster(
                  cache, objects, new Servers(cache, objects), new Kueue(client, namespace, cache));
        }
        c = cluster;
      }
    }
    return c;
  }

  private void wake(String job) {
    Cluster c = cluster;
    if (c != null) {
      c.cache().wake(job);
    }
  }

  @Override
  public ArtifactStore store() {
    return core.store();
  }

  @Override
  public String backendName() {
    return "kubernetes";
  }

  @Override
  public RenderedPhase render(PhaseTask task, int attempt) {
    return core.render(task, attempt);
  }

  @Override
  public Handoff collect(PhaseTask task, JobRef job) {
    return core.collect(task, job);
  }

  // --- servers -------------------------------------------------------------------------------

  @Override
  public void submitServers(RenderedPhase rendered) {
    for (Manifest manifest : rendered.manifests()) {
      if (!manifest.kind().equals("Job")) {
        cluster().objects().create(rendered.job(), manifest);
      }
    }
  }

  @Override
  public ServersStatus awaitServers(RenderedPhase rendered, long reportEveryMillis) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    ClusterCache cache = cluster().cache();
    long until = System.currentTimeMillis() + reportEveryMillis;
    while (true) {
      long version = cache.version();
      ServersStatus status = cluster().servers().status(rendered);
      if (status.ready() || status.permanent() || System.currentTimeMillis() >= until) {
        return status;
      }
      context.heartbeat(status.waitingFor());
      await(cache, version, Math.min(1_000, until - System.currentTimeMillis()));
    }
  }

  @Override
  public void resumeServers(JobRef job) {
    cluster().servers().scaleUp(job);
  }

  // --- start, follow ---------------------------------------------------------------------------

  @Override
  public JobSnapshot startJob(RenderedPhase rendered) {
    JobRef job = rendered.job();
    // With servers, everything but the Job was created (and waited for) already.
    boolean serversFirst = rendered.hasServers();
    long maxSteps = 0;
    for (Manifest manifest : rendered.manifests()) {
      if (manifest.kind().equals("Job")) {
        HasMetadata created = cluster().objects().create(job, manifest);
        maxSteps = JobView.maxSteps((Job) created);
      } else if (!serversFirst) {
        cluster().objects().create(job, manifest);
      }
    }
    return JobSnapshot.pending(JobProgress.none(maxSteps), "created Job " + job.name());
  }

  @Override
  public JobSnapshot followJob(JobRef job, JobSnapshot last, long reportEveryMillis) {
    ClusterCache cache = cluster().cache();
    return JobFollower.follow(
        last,
        reportEveryMillis,
        new JobFollower.Watch() {
          private long version;

          @Override
          public JobSnapshot look(JobSnapshot before) {
            version = cache.jobVersion(job.name());
            return KubernetesPhaseActivities.this.look(job, before);
          }

          @Override
          public void awaitChange(long millis) throws InterruptedException {
            cache.awaitJobChange(job.name(), version, millis);
          }
        });
  }

  /** The job now, from the informers' view of its Job and pods and its followed log. */
  JobSnapshot look(JobRef ref, JobSnapshot before) {
    ClusterCache cache = cluster().cache();
    Job job = cache.job(ref.name());
    if (job == null) {
      return missing(ref, before);
    }
    missingSince.remove(ref.name());
    List<Pod> pods = cache.podsOf(job);
    PodLogs.JobLog jobLog = logs.of(ref.name());
    // On several nodes only rank 0 prints progress; another rank's log is read once it failed.
    Map<String, String> failedRanks = new HashMap<>();
    boolean readToEnd = true;
    for (Pod pod : pods) {
      String container = pod.getSpec().getContainers().get(0).getName();
      if (JobRanks.printsProgress(pod)) {
        if (JobView.started(pod)) {
          jobLog.follow(pod.getMetadata().getName(), container, name -> stillRunning(cache, name));
        }
        if (!JobView.live(pod) && !jobLog.readToEnd(pod.getMetadata().getName())) {
          readToEnd = false;
        }
      } else if (JobRanks.failedWithError(pod)) {
        String last = jobLog.lastLineOf(pod.getMetadata().getName(), container);
        if (last != null) {
          failedRanks.put(pod.getMetadata().getName(), last);
        }
      }
    }
    GenericKubernetesResource workload =
        Kueue.queue(job) == null ? null : cluster().kueue().workloadOf(job);
    JobView.Log log =
        new JobView.Log(
            jobLog.progress(), jobLog.lines(), jobLog.lastLine(), failedRanks, readToEnd);
    return JobView.of(job, pods, workload, core.checkpointStep(ref), log, before);
  }

  /**
   * A Job the informer does not show: not yet, right after it was created elsewhere, or deleted
   * outside Syllabus, which fails the phase once it has been missing for a while.
   */
  private JobSnapshot missing(JobRef ref, JobSnapshot before) {
    long now = System.currentTimeMillis();
    long since = missingSince.computeIfAbsent(ref.name(), k -> now);
    if (now - since < MISSING_GRACE_MILLIS) {
      return before;
    }
    return before.withState(
        JobState.FAILED,
        "Job "
            + ref.name()
            + " no longer exists in namespace "
            + namespace
            + " (was it deleted outside Syllabus?)");
  }

  private static boolean stillRunning(ClusterCache cache, String podName) {
    Pod pod = cache.pod(podName);
    return pod != null && JobView.live(pod);
  }

  private static void await(ClusterCache cache, long version, long millis) {
    try {
      cache.awaitChange(version, millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while following the cluster", e);
    }
  }

  // --- stop, resume ------------------------------------------------------------------------

  @Override
  public void stopJob(JobRef ref, String reason) {
    Cluster c = cluster();
    Job job = c.objects().job(ref);
    if (job == null) {
      log.info("job {} is gone; nothing to stop", ref.name());
      return;
    }
    MergePatch stop = new MergePatch().annotation(JobView.STOP_ANNOTATION, reason);
    if (Kueue.queue(job) != null) {
      GenericKubernetesResource workload = c.kueue().workloadOf(job);
      if (workload == null) {
        throw ApplicationFailure.newFailure(
            "Kueue has not made a Workload for " + ref.name() + " yet; trying again", "NotYet");
      }
      c.objects().patchJob(ref, stop);
      c.kueue().setActive(workload, false);
      log.info(
          "deactivated Workload {} of job {}: {}",
          workload.getMetadata().getName(),
          ref.name(),
          reason);
    } else {
      c.objects().patchJob(ref, stop.spec("suspend", true));
      log.info("suspended job {}: {}", ref.name(), reason);
    }
    c.servers().scaleDown(ref);
  }

  @Override
  public JobSnapshot resumeJob(JobRef ref) {
    Cluster c = cluster();
    Job job = c.objects().job(ref);
    if (job == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "Job "
              + ref.name()
              + " no longer exists in namespace "
              + namespace
              + "; cannot resume it",
          "JobGone");
    }
    long maxSteps = JobView.maxSteps(job);
    Long checkpoint = core.checkpointStep(ref);
    boolean finished = checkpoint != null && checkpoint >= maxSteps;
    MergePatch resume = new MergePatch().annotation(JobView.STOP_ANNOTATION, null);
    // A rank whose pod exited 0 after the SIGTERM of the pause may count as done: that rank would
    // not run again, and the others would wait for it at the rendezvous.
    boolean someRanksDone =
        JobRanks.ranks(job) > 1
            && job.getStatus() != null
            && job.getStatus().getSucceeded() != null
            && job.getStatus().getSucceeded() > 0;
    if ((JobView.condition(job, "Complete") || someRanksDone) && !finished) {
      // It completed while suspending (its pod exited 0 after SIGTERM): a Job that completed
      // cannot run again, so it is made anew; the trainer resumes from its checkpoint.
      c.objects().recreate(ref, job);
    } else if (Kueue.queue(job) != null) {
      c.objects().patchJob(ref, resume);
      GenericKubernetesResource workload = c.kueue().workloadOf(job);
      if (workload != null) {
        c.kueue().setActive(workload, true);
      }
    } else {
      c.objects().patchJob(ref, resume.spec("suspend", false));
    }
    log.info("resumed job {}", ref.name());
    awaitUnstopped(ref);
    return JobSnapshot.pending(
        new JobProgress(0, maxSteps, null, null, checkpoint), "resuming " + ref.name());
  }

  /** Waits until the informer shows the resumed Job, so that a look does not see it stopped. */
  private void awaitUnstopped(JobRef ref) {
    ClusterCache cache = cluster().cache();
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      long version = cache.version();
      Job job = cache.job(ref.name());
      if (job != null && JobView.annotation(job, JobView.STOP_ANNOTATION) == null) {
        return;
      }
      await(cache, version, 1_000);
    }
    log.warn("job {} still shows as stopped after 30 s", ref.name());
  }

  // --- teardown ----------------------------------------------------------------------------

  @Override
  public void teardown(JobRef ref, String reason) {
    logs.forget(ref.name());
    cluster().objects().teardown(ref);
    log.info("tore down {}: {}", ref.name(), reason);
  }

  @Override
  public void close() {
    logs.close();
    Cluster c = cluster;
    if (c != null) {
      c.cache().close();
    }
  }
}
