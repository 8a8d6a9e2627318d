package dev.syllabus.activities.kubernetes;

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
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code kubernetes} backend: creates a phase's rendered objects in one namespace with the
 * fabric8 client, follows them through informers and the trainer's pod log (no polling), pauses by
 * suspending the Job (or deactivating its Kueue Workload), and deletes what the phase left running.
 *
 * <p>Every object carries the run's labels. Creating is idempotent: an object that already exists
 * with this attempt's labels is adopted, one that exists without them is an error naming it. The
 * phase's config ConfigMap is created first and deleted last and lists every other object ({@value
 * Renderer#OBJECTS_ANNOTATION}), so teardown needs no list requests. A stop is recorded on the Job
 * itself ({@value #STOP_ANNOTATION}), so that a new worker knows a suspended Job was stopped on
 * purpose.
 */
public final class KubernetesPhaseActivities implements PhaseActivities, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KubernetesPhaseActivities.class);

  /** On a Job Syllabus asked to stop: the reason. Removed when it is resumed. */
  public static final String STOP_ANNOTATION = "syllabus.dev/stop-requested";

  /**
   * On a paused phase's server (Deployment, StatefulSet): its replicas before the pause scaled it
   * to zero, so that a paused phase holds no GPUs.
   */
  public static final String REPLICAS_ANNOTATION = "syllabus.dev/replicas";

  /**
   * On a resumed Job whose servers are starting again: it stays suspended until they are ready,
   * then the worker following it starts it.
   */
  public static final String RESUME_ANNOTATION = "syllabus.dev/resume-when-servers-ready";

  /** How long a Job may be missing from what the informer shows before it counts as deleted. */
  static final long MISSING_GRACE_MILLIS = 30_000;

  private final Renderer renderer;
  private final ArtifactStore store;
  private final KubernetesClient client;
  private final String namespace;
  private final PodLogs logs;
  private final Map<String, Long> missingSince = new ConcurrentHashMap<>();
  private volatile ClusterCache cache;

  /**
   * @param store the artifact store as this worker sees it: the PVC the phases' Jobs mount as
   *     {@code syllabus-artifacts}, mounted here too
   */
  public KubernetesPhaseActivities(
      Renderer renderer, ArtifactStore store, KubernetesClient client, String namespace) {
    this.renderer = renderer;
    this.store = store;
    this.client = client;
    this.namespace = namespace;
    this.logs = new PodLogs(client, namespace, this::wake);
  }

  public String namespace() {
    return namespace;
  }

  /** The informers, started on first use: one list and watch per kind for the worker's life. */
  private ClusterCache cache() {
    ClusterCache c = cache;
    if (c == null) {
      synchronized (this) {
        if (cache == null) {
          try {
            cache = new ClusterCache(client, namespace, 60_000);
          } catch (KubernetesClientException e) {
            throw clusterFailure("watch the phases' objects", e);
          }
        }
        c = cache;
      }
    }
    return c;
  }

  private void wake() {
    ClusterCache c = cache;
    if (c != null) {
      c.wake();
    }
  }

  // --- render and create -------------------------------------------------------------------

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
    for (Manifest manifest : rendered.manifests()) {
      if (!manifest.kind().equals("Job")) {
        create(rendered.job(), manifest);
      }
    }
  }

  @Override
  public ServersStatus awaitServers(RenderedPhase rendered, long reportEveryMillis) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    ClusterCache c = cache();
    long until = System.currentTimeMillis() + reportEveryMillis;
    while (true) {
      long version = c.version();
      ServersStatus status = servers(rendered);
      if (status.ready() || status.permanent() || System.currentTimeMillis() >= until) {
        return status;
      }
      context.heartbeat(status.waitingFor());
      await(c, version, Math.min(1_000, until - System.currentTimeMillis()));
    }
  }

  /**
   * Whether every Deployment and StatefulSet is available and every Service has ready endpoints.
   */
  private ServersStatus servers(RenderedPhase rendered) {
    ClusterCache c = cache();
    List<String> waiting = new ArrayList<>();
    for (Manifest m : rendered.manifests()) {
      switch (m.kind()) {
        case "Deployment" -> {
          Deployment d = c.deployment(m.name());
          int want = d == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
          int have =
              d == null || d.getStatus() == null || d.getStatus().getAvailableReplicas() == null
                  ? 0
                  : d.getStatus().getAvailableReplicas();
          if (have < want) {
            waiting.add("Deployment " + m.name() + " (" + have + "/" + want + " available)");
          }
        }
        case "StatefulSet" -> {
          StatefulSet s = c.statefulSet(m.name());
          int want = s == null || s.getSpec().getReplicas() == null ? 1 : s.getSpec().getReplicas();
          int have =
              s == null || s.getStatus() == null || s.getStatus().getReadyReplicas() == null
                  ? 0
                  : s.getStatus().getReadyReplicas();
          if (have < want) {
            waiting.add("StatefulSet " + m.name() + " (" + have + "/" + want + " ready)");
          }
        }
        case "Service" -> {
          HasMetadata service = (HasMetadata) Kubeconfigs.SERIALIZATION.unmarshal(m.yaml());
          var spec = ((io.fabric8.kubernetes.api.model.Service) service).getSpec();
          if (spec != null && spec.getSelector() != null && !spec.getSelector().isEmpty()) {
            if (!hasReadyEndpoint(c.endpointSlices(m.name()))) {
              waiting.add("Service " + m.name() + " (no ready endpoints)");
            }
          }
        }
        default -> {
          // ConfigMaps and the Job: nothing to wait for
        }
      }
    }
    if (waiting.isEmpty()) {
      return ServersStatus.READY;
    }
    // A server pod that cannot start will not start by waiting.
    Map<String, String> attempt = attemptLabels(rendered.job());
    for (Pod pod : c.pods(attempt)) {
      String role = pod.getMetadata().getLabels().get(Kubeconfigs.ROLE_LABEL);
      if (Renderer.TRAIN_ROLE.equals(role)) {
        continue;
      }
      PodTrouble trouble = PodTrouble.of(pod);
      if (trouble != null && trouble.permanent()) {
        return new ServersStatus(false, trouble.message(), true);
      }
      if (trouble != null && trouble.capacity()) {
        waiting.add(trouble.message());
        break;
      }
    }
    return new ServersStatus(false, String.join("; ", waiting), false);
  }

  private static boolean hasReadyEndpoint(List<EndpointSlice> slices) {
    for (EndpointSlice slice : slices) {
      if (slice.getEndpoints() == null) {
        continue;
      }
      for (Endpoint endpoint : slice.getEndpoints()) {
        if (endpoint.getConditions() != null
            && Boolean.TRUE.equals(endpoint.getConditions().getReady())) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public JobSnapshot startJob(RenderedPhase rendered) {
    JobRef job = rendered.job();
    // With servers, everything but the Job was created (and waited for) already.
    boolean serversUp = false;
    for (Manifest m : rendered.manifests()) {
      if (m.kind().equals("Deployment")) {
        serversUp = cache().deployment(m.name()) != null;
        break;
      }
    }
    long maxSteps = 0;
    for (Manifest manifest : rendered.manifests()) {
      if (manifest.kind().equals("Job")) {
        HasMetadata created = create(job, manifest);
        maxSteps = maxSteps((Job) created);
      } else if (!serversUp) {
        create(job, manifest);
      }
    }
    return JobSnapshot.pending(maxSteps).withState(JobState.PENDING, "created Job " + job.name());
  }

  /** Creates one object, or adopts it when this attempt created it already. */
  private HasMetadata create(JobRef job, Manifest manifest) {
    HasMetadata object = (HasMetadata) Kubeconfigs.SERIALIZATION.unmarshal(manifest.yaml());
    try {
      HasMetadata created = client.resource(object).inNamespace(namespace).create();
      log.info("created {} {} in {}", manifest.kind(), manifest.name(), namespace);
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw clusterFailure("create " + manifest.kind() + " " + manifest.name(), e);
      }
    }
    HasMetadata existing;
    try {
      existing = client.resource(object).inNamespace(namespace).get();
    } catch (KubernetesClientException e) {
      throw clusterFailure("read " + manifest.kind() + " " + manifest.name(), e);
    }
    if (existing == null) {
      throw ApplicationFailure.newFailure(
          manifest.kind()
              + " "
              + manifest.name()
              + " was deleted while being created; trying again",
          "Conflict");
    }
    Map<String, String> labels = existing.getMetadata().getLabels();
    Map<String, String> wanted = attemptLabels(job);
    if (labels == null || !labels.entrySet().containsAll(wanted.entrySet())) {
      throw ApplicationFailure.newNonRetryableFailure(
          manifest.kind()
              + " "
              + manifest.name()
              + " already exists in namespace "
              + namespace
              + " and was not made by Syllabus for "
              + job.name()
              + " (its labels: "
              + (labels == null || labels.isEmpty() ? "none" : labels)
              + "); delete it or start the run with another id",
          "NameTaken");
    }
    log.info(
        "adopted {} {}: it was created for this attempt already", manifest.kind(), manifest.name());
    return existing;
  }

  static Map<String, String> attemptLabels(JobRef job) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Renderer.MANAGED_BY, "syllabus");
    labels.put(Renderer.RUN_LABEL, job.runId());
    labels.put(Renderer.PHASE_INDEX_LABEL, Integer.toString(job.phaseIndex()));
    labels.put(Renderer.ATTEMPT_LABEL, Integer.toString(job.attempt()));
    return labels;
  }

  // --- follow ------------------------------------------------------------------------------

  @Override
  public JobSnapshot followJob(JobRef job, JobSnapshot last, long reportEveryMillis) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    JobSnapshot from = context.getHeartbeatDetails(JobSnapshot.class).orElse(last);
    ClusterCache c = cache();
    long now = System.currentTimeMillis();
    long reportAt = now + reportEveryMillis;
    long latest = now + Math.max(10 * reportEveryMillis, 60_000);
    while (true) {
      long version = c.version();
      JobSnapshot seen = look(job, from);
      if (seen.state().hasEnded()
          || seen.state() != from.state()
          || seen.waitingForCapacity() != from.waitingForCapacity()
          || !Objects.equals(seen.message(), from.message()) && seen.state() == JobState.PENDING) {
        return seen;
      }
      now = System.currentTimeMillis();
      boolean progressed =
          seen.step() != from.step()
              || !Objects.equals(seen.checkpointStep(), from.checkpointStep());
      if ((now >= reportAt && progressed) || now >= latest) {
        return seen;
      }
      if (seen.waitingForCapacity() && now >= from(reportAt, reportEveryMillis, 10)) {
        return seen; // the workflow checks the capacity deadline
      }
      context.heartbeat(seen);
      long wait = progressed ? reportAt - now : Math.min(latest - now, 5_000);
      await(c, version, Math.max(1, Math.min(wait, 5_000)));
    }
  }

  /** The moment {@code times} report intervals after the call began. */
  private static long from(long reportAt, long reportEveryMillis, int times) {
    return reportAt - reportEveryMillis + times * reportEveryMillis;
  }

  private static void await(ClusterCache c, long version, long millis) {
    try {
      c.awaitChange(version, millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while following the cluster", e);
    }
  }

  /** The job now, from the informers' view of its Job and pods and its followed log. */
  JobSnapshot look(JobRef ref, JobSnapshot before) {
    ClusterCache c = cache();
    Job job = c.job(ref.name());
    long now = System.currentTimeMillis();
    if (job == null) {
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
    missingSince.remove(ref.name());
    String serversWaiting = startWhenServersReady(ref, job);
    if (serversWaiting != null) {
      return new JobSnapshot(
          JobState.PENDING,
          before.step(),
          before.maxSteps(),
          before.loss(),
          before.evalLoss(),
          before.checkpointStep(),
          before.logOffset(),
          null,
          "waiting for servers: " + serversWaiting,
          false,
          false);
    }
    long maxSteps = maxSteps(job);
    if (maxSteps == 0) {
      maxSteps = before.maxSteps();
    }
    List<Pod> pods = c.podsOf(job);
    PodLogs.JobLog jobLog = logs.of(ref.name());
    for (Pod pod : pods) {
      String container = pod.getSpec().getContainers().get(0).getName();
      if (started(pod, container)) {
        jobLog.follow(pod.getMetadata().getName(), container, name -> stillRunning(c, name));
      }
    }
    Progress progress = jobLog.progress();
    Long checkpoint = checkpointStep(ref);
    long step =
        Math.max(Math.max(before.step(), progress.step()), checkpoint == null ? 0 : checkpoint);
    Double loss = progress.loss() != null ? progress.loss() : before.loss();
    Double evalLoss = progress.evalLoss() != null ? progress.evalLoss() : before.evalLoss();
    State s = state(c, job, pods, checkpoint, maxSteps);
    return new JobSnapshot(
        s.state,
        step,
        maxSteps,
        loss,
        evalLoss,
        checkpoint,
        jobLog.lines(),
        s.exitCode,
        s.message,
        s.permanent,
        s.capacity);
  }

  /**
   * A Job resumed while its servers start again: starts it (unsuspends it, or activates its Kueue
   * Workload) once they are ready. Returns what they still wait for, or null when the Job is not
   * waiting for them (any more).
   */
  private String startWhenServersReady(JobRef ref, Job job) {
    if (annotation(job, RESUME_ANNOTATION) == null || annotation(job, STOP_ANNOTATION) != null) {
      return null;
    }
    String waiting = serversNotReady(ref);
    if (waiting != null) {
      return waiting;
    }
    if (queue(job) != null) {
      GenericKubernetesResource workload = cache().workloadOf(job);
      if (workload != null) {
        setActive(workload, true);
      }
      patchJob(ref, "{\"metadata\":{\"annotations\":{\"" + RESUME_ANNOTATION + "\":null}}}");
    } else {
      patchJob(
          ref,
          "{\"metadata\":{\"annotations\":{\""
              + RESUME_ANNOTATION
              + "\":null}},\"spec\":{\"suspend\":false}}");
    }
    log.info("servers of {} are ready again; started it", ref.name());
    return null;
  }

  /**
   * An annotation's value, or null when it is not there. A removed annotation is absent on a real
   * API server; fabric8's mock server keeps it with a null value, so an empty value counts as
   * absent too.
   */
  static String annotation(HasMetadata object, String key) {
    Map<String, String> annotations = object.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(key);
    return value == null || value.isEmpty() ? null : value;
  }

  private record State(
      JobState state, String message, Integer exitCode, boolean permanent, boolean capacity) {
    static State of(JobState state, String message) {
      return new State(state, message, null, false, false);
    }
  }

  private State state(ClusterCache c, Job job, List<Pod> pods, Long checkpoint, long maxSteps) {
    boolean stopAsked = annotation(job, STOP_ANNOTATION) != null;
    boolean finished = checkpoint != null && maxSteps > 0 && checkpoint >= maxSteps;
    Pod latest = pods.isEmpty() ? null : pods.get(pods.size() - 1);
    PodTrouble trouble = latest == null ? null : PodTrouble.of(latest);
    String where = checkpoint == null ? "no checkpoint yet" : "checkpoint " + checkpoint;

    if (condition(job, "Complete")) {
      if (finished || maxSteps == 0) {
        return new State(JobState.SUCCEEDED, null, 0, false, false);
      }
      if (stopAsked) {
        return State.of(JobState.STOPPED, "stopped at " + where);
      }
      return new State(
          JobState.FAILED,
          "the trainer exited 0 before its last step (latest complete checkpoint: "
              + (checkpoint == null ? "none" : checkpoint)
              + " of "
              + maxSteps
              + ")",
          0,
          false,
          false);
    }
    JobCondition failed = firstCondition(job, "Failed", "FailureTarget");
    if (failed != null) {
      Integer exit = exitCode(latest);
      if (trouble != null && trouble.permanent()) {
        return new State(JobState.FAILED, trouble.message(), exit, true, false);
      }
      String why =
          "Job "
              + job.getMetadata().getName()
              + " failed ("
              + failed.getReason()
              + (failed.getMessage() == null ? "" : ": " + PodTrouble.oneLine(failed.getMessage()))
              + ")"
              + (exit == null ? "" : "; the trainer's exit code was " + exit);
      String lastLine = logs.of(job.getMetadata().getName()).lastLine();
      if (lastLine != null && exit != null && exit != 0) {
        why += ": " + lastLine;
      }
      return new State(JobState.FAILED, why, exit, false, false);
    }
    if (trouble != null && trouble.permanent()) {
      return new State(JobState.FAILED, trouble.message(), exitCode(latest), true, false);
    }
    // A pod counts until the Job controller has accounted for it: a pod that exits 0 while its Job
    // is suspended may yet complete the Job, which resume must know about.
    boolean live = pods.stream().anyMatch(p -> live(p) || unaccounted(p)) || hasUncounted(job);
    if (Boolean.TRUE.equals(job.getSpec().getSuspend())) {
      if (live) {
        return State.of(
            JobState.RUNNING, stopAsked ? "stopping: the trainer saves a checkpoint" : null);
      }
      if (stopAsked) {
        return State.of(JobState.STOPPED, "stopped at " + where);
      }
      if (queue(job) != null) {
        return new State(JobState.PENDING, queued(c, job), null, false, true);
      }
      return State.of(
          JobState.PENDING,
          "Job "
              + job.getMetadata().getName()
              + " is suspended, not by Syllabus (kubectl patch job … suspend: false, or pause and"
              + " resume the run)");
    }
    if (trouble != null && trouble.capacity()) {
      return new State(JobState.PENDING, trouble.message(), null, false, true);
    }
    if (latest != null && running(latest)) {
      return State.of(JobState.RUNNING, null);
    }
    if (latest == null) {
      return State.of(JobState.PENDING, "waiting for the Job's pod");
    }
    return State.of(
        JobState.PENDING, "pod " + latest.getMetadata().getName() + ": " + waiting(latest));
  }

  /** What Kueue says of a queued Job's Workload. */
  private String queued(ClusterCache c, Job job) {
    String queue = queue(job);
    GenericKubernetesResource workload = c.workloadOf(job);
    if (workload == null) {
      return "queued in Kueue queue " + queue + " (no Workload yet)";
    }
    for (Map<String, Object> condition : conditions(workload)) {
      if ("QuotaReserved".equals(condition.get("type"))
          && "False".equals(condition.get("status"))) {
        return "waiting for capacity: queued in Kueue queue "
            + queue
            + ": "
            + PodTrouble.oneLine(String.valueOf(condition.get("message")));
      }
    }
    return "waiting for capacity: queued in Kueue queue " + queue;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> conditions(GenericKubernetesResource resource) {
    Object status = resource.getAdditionalProperties().get("status");
    if (status instanceof Map<?, ?> map && map.get("conditions") instanceof List<?> list) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (Object item : list) {
        if (item instanceof Map<?, ?> m) {
          out.add((Map<String, Object>) m);
        }
      }
      return out;
    }
    return List.of();
  }

  private static String queue(Job job) {
    Map<String, String> labels = job.getMetadata().getLabels();
    return labels == null ? null : labels.get(Renderer.KUEUE_QUEUE_LABEL);
  }

  private static boolean condition(Job job, String type) {
    return firstCondition(job, type) != null;
  }

  private static JobCondition firstCondition(Job job, String... types) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) {
      return null;
    }
    for (String type : types) {
      for (JobCondition condition : job.getStatus().getConditions()) {
        if (type.equals(condition.getType()) && "True".equals(condition.getStatus())) {
          return condition;
        }
      }
    }
    return null;
  }

  /** A finished pod the Job controller has not recorded yet (its tracking finalizer is on). */
  private static boolean unaccounted(Pod pod) {
    List<String> finalizers = pod.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains("batch.kubernetes.io/job-tracking");
  }

  private static boolean hasUncounted(Job job) {
    var uncounted = job.getStatus() == null ? null : job.getStatus().getUncountedTerminatedPods();
    return uncounted != null
        && ((uncounted.getSucceeded() != null && !uncounted.getSucceeded().isEmpty())
            || (uncounted.getFailed() != null && !uncounted.getFailed().isEmpty()));
  }

  private static boolean live(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  private static boolean running(Pod pod) {
    ContainerStatus main = mainStatus(pod);
    return main != null && main.getState() != null && main.getState().getRunning() != null;
  }

  /** Whether the container has started, so that it has a log to follow. */
  private static boolean started(Pod pod, String container) {
    ContainerStatus main = mainStatus(pod);
    return main != null
        && main.getName().equals(container)
        && main.getState() != null
        && (main.getState().getRunning() != null || main.getState().getTerminated() != null);
  }

  private static boolean stillRunning(ClusterCache c, String podName) {
    Pod pod = c.pod(podName);
    return pod != null && live(pod);
  }

  private static ContainerStatus mainStatus(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return null;
    }
    String main = pod.getSpec().getContainers().get(0).getName();
    for (ContainerStatus status : pod.getStatus().getContainerStatuses()) {
      if (status.getName().equals(main)) {
        return status;
      }
    }
    return null;
  }

  private static Integer exitCode(Pod pod) {
    ContainerStatus main = pod == null ? null : mainStatus(pod);
    if (main == null || main.getState() == null || main.getState().getTerminated() == null) {
      return null;
    }
    return main.getState().getTerminated().getExitCode();
  }

  private static String waiting(Pod pod) {
    ContainerStatus main = mainStatus(pod);
    if (main != null && main.getState() != null && main.getState().getWaiting() != null) {
      return main.getState().getWaiting().getReason();
    }
    return pod.getStatus() == null || pod.getStatus().getPhase() == null
        ? "Pending"
        : pod.getStatus().getPhase();
  }

  /** The phase's step count, from the job-contract environment of the Job's first container. */
  static long maxSteps(Job job) {
    Container main = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    long start = -1;
    long end = -1;
    for (EnvVar var : main.getEnv() == null ? List.<EnvVar>of() : main.getEnv()) {
      try {
        if ("SYLLABUS_STEP_START".equals(var.getName())) {
          start = Long.parseLong(var.getValue());
        } else if ("SYLLABUS_STEP_END".equals(var.getName())) {
          end = Long.parseLong(var.getValue());
        }
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return start >= 0 && end >= start ? end - start : 0;
  }

  private Long checkpointStep(JobRef job) {
    return store
        .latestCheckpoint(store.phaseFolder(job))
        .map(ArtifactStore.Checkpoint::step)
        .orElse(null);
  }

  // --- stop, resume ------------------------------------------------------------------------

  @Override
  public void stopJob(JobRef ref, String reason) {
    Job job = currentJob(ref);
    if (job == null) {
      log.info("job {} is gone; nothing to stop", ref.name());
      return;
    }
    String annotate =
        "{\"metadata\":{\"annotations\":{\"" + STOP_ANNOTATION + "\":" + json(reason) + "}}";
    if (queue(job) != null) {
      GenericKubernetesResource workload = cache().workloadOf(job);
      if (workload == null) {
        throw ApplicationFailure.newFailure(
            "Kueue has not made a Workload for " + ref.name() + " yet; trying again", "NotYet");
      }
      patchJob(ref, annotate + "}");
      setActive(workload, false);
      log.info(
          "deactivated Workload {} of job {}: {}",
          workload.getMetadata().getName(),
          ref.name(),
          reason);
    } else {
      patchJob(ref, annotate + ",\"spec\":{\"suspend\":true}}");
      log.info("suspended job {}: {}", ref.name(), reason);
    }
    scaleServersDown(ref);
  }

  /** A stopped phase's servers go to zero replicas, remembering how many they had. */
  private void scaleServersDown(JobRef ref) {
    for (HasMetadata server : cache().servers(attemptLabels(ref))) {
      if (annotation(server, REPLICAS_ANNOTATION) != null) {
        continue;
      }
      int replicas = replicas(server);
      patchServer(
          server,
          "{\"metadata\":{\"annotations\":{\""
              + REPLICAS_ANNOTATION
              + "\":\""
              + replicas
              + "\"}},\"spec\":{\"replicas\":0}}");
      log.info(
          "scaled {} {} to 0 while {} is stopped",
          server.getKind(),
          server.getMetadata().getName(),
          ref.name());
    }
  }

  /** Scales a stopped phase's servers back; true if there were any. */
  private boolean scaleServersUp(JobRef ref) {
    boolean any = false;
    for (HasMetadata server : cache().servers(attemptLabels(ref))) {
      String replicas = annotation(server, REPLICAS_ANNOTATION);
      if (replicas == null) {
        continue;
      }
      any = true;
      patchServer(
          server,
          "{\"metadata\":{\"annotations\":{\""
              + REPLICAS_ANNOTATION
              + "\":null}},\"spec\":{\"replicas\":"
              + Integer.parseInt(replicas)
              + "}}");
      log.info(
          "scaled {} {} back to {}", server.getKind(), server.getMetadata().getName(), replicas);
    }
    return any;
  }

  private static int replicas(HasMetadata server) {
    Integer n =
        server instanceof Deployment d
            ? d.getSpec().getReplicas()
            : ((StatefulSet) server).getSpec().getReplicas();
    return n == null ? 1 : n;
  }

  private void patchServer(HasMetadata server, String mergePatch) {
    String name = server.getMetadata().getName();
    try {
      if (server instanceof Deployment) {
        client
            .apps()
            .deployments()
            .inNamespace(namespace)
            .withName(name)
            .patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
      } else {
        client
            .apps()
            .statefulSets()
            .inNamespace(namespace)
            .withName(name)
            .patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
      }
    } catch (KubernetesClientException e) {
      throw clusterFailure("scale " + server.getKind() + " " + name, e);
    }
  }

  /** What a phase's servers still wait for, from what the informers show; null when ready. */
  private String serversNotReady(JobRef ref) {
    ClusterCache c = cache();
    Map<String, String> labels = attemptLabels(ref);
    List<String> waiting = new ArrayList<>();
    for (HasMetadata server : c.servers(labels)) {
      int want = replicas(server);
      Integer have;
      if (server instanceof Deployment d) {
        have = d.getStatus() == null ? null : d.getStatus().getAvailableReplicas();
      } else {
        StatefulSet set = (StatefulSet) server;
        have = set.getStatus() == null ? null : set.getStatus().getReadyReplicas();
      }
      int ready = have == null ? 0 : have;
      if (ready < want) {
        waiting.add(
            server.getKind()
                + " "
                + server.getMetadata().getName()
                + " ("
                + ready
                + "/"
                + want
                + " available)");
      }
    }
    Map<String, List<EndpointSlice>> byService = new LinkedHashMap<>();
    for (EndpointSlice slice : c.endpointSlices(labels)) {
      String service = slice.getMetadata().getLabels().get("kubernetes.io/service-name");
      byService.computeIfAbsent(service, k -> new ArrayList<>()).add(slice);
    }
    byService.forEach(
        (service, slices) -> {
          if (!hasReadyEndpoint(slices)) {
            waiting.add("Service " + service + " (no ready endpoints)");
          }
        });
    return waiting.isEmpty() ? null : String.join("; ", waiting);
  }

  @Override
  public JobSnapshot resumeJob(JobRef ref) {
    Job job = currentJob(ref);
    if (job == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "Job "
              + ref.name()
              + " no longer exists in namespace "
              + namespace
              + "; cannot resume it",
          "JobGone");
    }
    long maxSteps = maxSteps(job);
    Long checkpoint = checkpointStep(ref);
    boolean finished = checkpoint != null && maxSteps > 0 && checkpoint >= maxSteps;
    if (condition(job, "Complete") && !finished) {
      // It completed while suspending (its pod exited 0 after SIGTERM): a Job that completed
      // cannot run again, so it is made anew; the trainer resumes from its checkpoint.
      recreate(ref, job);
    } else if (scaleServersUp(ref)) {
      // The Job starts once its servers are ready again: see startWhenServersReady.
      patchJob(ref, "{\"metadata\":{\"annotations\":{\"" + RESUME_ANNOTATION + "\":\"true\"}}}");
      patchJob(ref, "{\"metadata\":{\"annotations\":{\"" + STOP_ANNOTATION + "\":null}}}");
    } else if (queue(job) != null) {
      patchJob(ref, "{\"metadata\":{\"annotations\":{\"" + STOP_ANNOTATION + "\":null}}}");
      GenericKubernetesResource workload = cache().workloadOf(job);
      if (workload != null) {
        setActive(workload, true);
      }
    } else {
      patchJob(
          ref,
          "{\"metadata\":{\"annotations\":{\""
              + STOP_ANNOTATION
              + "\":null}},\"spec\":{\"suspend\":false}}");
    }
    log.info("resumed job {}", ref.name());
    awaitUnstopped(ref);
    return JobSnapshot.pending(maxSteps).withState(JobState.PENDING, "resuming " + ref.name());
  }

  /** Waits until the informer shows the resumed Job, so that a look does not see it stopped. */
  private void awaitUnstopped(JobRef ref) {
    ClusterCache c = cache();
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      long version = c.version();
      Job job = c.job(ref.name());
      if (job != null && annotation(job, STOP_ANNOTATION) == null) {
        return;
      }
      await(c, version, 1_000);
    }
    Job job = c.job(ref.name());
    log.warn(
        "job {} still shows as stopped after 30 s: {}",
        ref.name(),
        job == null
            ? "gone"
            : job.getMetadata().getAnnotations() + " " + job.getSpec().getSuspend());
  }

  private void recreate(JobRef ref, Job old) {
    try {
      client
          .batch()
          .v1()
          .jobs()
          .inNamespace(namespace)
          .withName(ref.name())
          .withPropagationPolicy(DeletionPropagation.BACKGROUND)
          .delete();
      if (!cache().awaitJobGone(ref.name(), 60_000)) {
        throw ApplicationFailure.newFailure(
            "Job " + ref.name() + " is still being deleted; trying again", "NotYet");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (KubernetesClientException e) {
      throw clusterFailure("delete Job " + ref.name(), e);
    }
    Job fresh = Kubeconfigs.SERIALIZATION.clone(old);
    fresh.setStatus(null);
    var meta = fresh.getMetadata();
    meta.setUid(null);
    meta.setResourceVersion(null);
    meta.setCreationTimestamp(null);
    meta.setManagedFields(null);
    meta.setGeneration(null);
    meta.setDeletionTimestamp(null);
    meta.setFinalizers(null);
    if (meta.getAnnotations() != null) {
      meta.getAnnotations().remove(STOP_ANNOTATION);
    }
    fresh.getSpec().setSuspend(queue(old) != null ? Boolean.TRUE : null);
    fresh.getSpec().setSelector(null);
    fresh.getSpec().setManualSelector(null);
    Map<String, String> podLabels = fresh.getSpec().getTemplate().getMetadata().getLabels();
    if (podLabels != null) {
      for (String generated :
          List.of(
              "controller-uid",
              "batch.kubernetes.io/controller-uid",
              "job-name",
              "batch.kubernetes.io/job-name")) {
        podLabels.remove(generated);
      }
    }
    try {
      client.resource(fresh).inNamespace(namespace).create();
    } catch (KubernetesClientException e) {
      throw clusterFailure("create Job " + ref.name() + " again", e);
    }
  }

  private void setActive(GenericKubernetesResource workload, boolean active) {
    try {
      client
          .genericKubernetesResources(cache().workloadResource())
          .inNamespace(namespace)
          .withName(workload.getMetadata().getName())
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"active\":" + active + "}}");
    } catch (KubernetesClientException e) {
      throw clusterFailure(
          (active ? "activate" : "deactivate") + " Workload " + workload.getMetadata().getName(),
          e);
    }
  }

  private void patchJob(JobRef ref, String mergePatch) {
    try {
      client
          .batch()
          .v1()
          .jobs()
          .inNamespace(namespace)
          .withName(ref.name())
          .patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
    } catch (KubernetesClientException e) {
      throw clusterFailure("patch Job " + ref.name(), e);
    }
  }

  /** The Job from the informer, or from the API server when the informer has not seen it. */
  private Job currentJob(JobRef ref) {
    Job job = cache().job(ref.name());
    if (job != null) {
      return job;
    }
    try {
      return client.batch().v1().jobs().inNamespace(namespace).withName(ref.name()).get();
    } catch (KubernetesClientException e) {
      throw clusterFailure("read Job " + ref.name(), e);
    }
  }

  // --- collect, teardown -------------------------------------------------------------------

  @Override
  public Handoff collect(PhaseTask task, JobRef job) {
    return Heartbeating.call(() -> store.handOff(task, job));
  }

  /**
   * Deletes the phase's servers and ConfigMaps; deletes its Job (with its pods, in the background)
   * unless the Job finished, which is kept until its {@code ttlSecondsAfterFinished} so that its
   * logs can be read.
   */
  @Override
  public void teardown(JobRef ref, String reason) {
    logs.forget(ref.name());
    String configName = Renderer.configMapName(ref);
    ConfigMap config;
    try {
      config = client.configMaps().inNamespace(namespace).withName(configName).get();
    } catch (KubernetesClientException e) {
      throw clusterFailure("read ConfigMap " + configName, e);
    }
    List<String> objects = new ArrayList<>();
    if (config != null && config.getMetadata().getAnnotations() != null) {
      String listed = config.getMetadata().getAnnotations().get(Renderer.OBJECTS_ANNOTATION);
      if (listed != null && !listed.isBlank()) {
        objects.addAll(List.of(listed.split(",")));
      }
    }
    for (String object : objects) {
      int slash = object.indexOf('/');
      String kind = object.substring(0, slash);
      String name = object.substring(slash + 1);
      if (!kind.equals("Job")) {
        delete(kind, name);
      }
    }
    Job job = currentJob(ref);
    if (job != null) {
      if (firstCondition(job, "Complete", "SuccessCriteriaMet", "Failed", "FailureTarget")
          != null) {
        log.info(
            "job {} finished; kept for its logs until ttlSecondsAfterFinished ({} s)",
            ref.name(),
            job.getSpec().getTtlSecondsAfterFinished());
      } else {
        delete("Job", ref.name());
      }
    }
    if (config != null) {
      delete("ConfigMap", configName);
    }
    log.info("tore down {}: {}", ref.name(), reason);
  }

  private void delete(String kind, String name) {
    try {
      var deleted =
          switch (kind) {
            case "Job" ->
                client
                    .batch()
                    .v1()
                    .jobs()
                    .inNamespace(namespace)
                    .withName(name)
                    .withPropagationPolicy(DeletionPropagation.BACKGROUND)
                    .delete();
            case "Deployment" ->
                client
                    .apps()
                    .deployments()
                    .inNamespace(namespace)
                    .withName(name)
                    .withPropagationPolicy(DeletionPropagation.BACKGROUND)
                    .delete();
            case "StatefulSet" ->
                client
                    .apps()
                    .statefulSets()
                    .inNamespace(namespace)
                    .withName(name)
                    .withPropagationPolicy(DeletionPropagation.BACKGROUND)
                    .delete();
            case "Service" -> client.services().inNamespace(namespace).withName(name).delete();
            case "ConfigMap" -> client.configMaps().inNamespace(namespace).withName(name).delete();
            default -> {
              log.warn("teardown does not delete {} {}; delete it by hand", kind, name);
              yield List.of();
            }
          };
      if (!deleted.isEmpty()) {
        log.info("deleted {} {}", kind, name);
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw clusterFailure("delete " + kind + " " + name, e);
      }
    }
  }

  // --- errors ------------------------------------------------------------------------------

  /**
   * A failure talking to the API server: permanent when it would not go away by trying again
   * (forbidden, invalid), retried otherwise (the API server restarting, a timeout).
   */
  private ApplicationFailure clusterFailure(String what, KubernetesClientException e) {
    String status = e.getStatus() != null ? e.getStatus().getMessage() : null;
    String detail = PodTrouble.oneLine(status != null ? status : e.getMessage());
    int code = e.getCode();
    if (code == 403) {
      return ApplicationFailure.newNonRetryableFailure(
          "the worker may not "
              + what
              + " in namespace "
              + namespace
              + " ("
              + detail
              + "); check its Role (deploy/role.yaml) with `syllabus doctor --backend kubernetes`",
          "Forbidden");
    }
    if (code == 400 || code == 422) {
      return ApplicationFailure.newNonRetryableFailure(
          "the cluster refused to " + what + ": " + detail, "Invalid");
    }
    if (code == 404 && what.startsWith("create")) {
      return ApplicationFailure.newNonRetryableFailure(
          "cannot " + what + ": " + detail + " (does namespace " + namespace + " exist?)",
          "NotFound");
    }
    return ApplicationFailure.newFailure(
        "cannot " + what + " (" + (code == 0 ? "no answer" : "HTTP " + code) + "): " + detail,
        "ClusterUnavailable");
  }

  private static String json(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char ch : (text == null ? "" : text).toCharArray()) {
      switch (ch) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        default -> {
          if (ch < 0x20) {
            out.append(String.format("\\u%04x", (int) ch));
          } else {
            out.append(ch);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  @Override
  public void close() {
    logs.close();
    ClusterCache c = cache;
    if (c != null) {
      c.close();
    }
  }
}
