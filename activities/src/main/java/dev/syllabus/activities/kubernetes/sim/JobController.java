package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.api.model.batch.v1.UncountedTerminatedPods;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Job controller (batch/v1), as Kubernetes 1.31+ runs it for NonIndexed Jobs: creates pods from
 * the template (with the {@code batch.kubernetes.io/job-tracking} finalizer), counts them when they
 * end and then releases their finalizer, replaces failed ones until {@code backoffLimit}, deletes
 * the active pods of a suspended Job and sets {@code Suspended}, and finishes a Job in two steps:
 * {@code SuccessCriteriaMet} or {@code FailureTarget} first, {@code Complete} or {@code Failed}
 * once no pod of it runs.
 */
final class JobController {
  static final String TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";

  private final KubernetesClient api;
  private final SimulatedCluster.Settings settings;

  JobController(KubernetesClient api, SimulatedCluster.Settings settings) {
    this.api = api;
    this.settings = settings;
  }

  void sync() {
    List<Job> jobs = api.batch().v1().jobs().inAnyNamespace().list().getItems();
    List<Pod> pods = api.pods().inAnyNamespace().list().getItems();
    Map<String, List<Pod>> byJob = new HashMap<>();
    Map<String, Job> byUid = new HashMap<>();
    jobs.forEach(j -> byUid.put(j.getMetadata().getUid(), j));
    for (Pod pod : pods) {
      String owner = Kube.controllerUid(pod, "Job");
      if (owner != null) {
        byJob.computeIfAbsent(owner, k -> new ArrayList<>()).add(pod);
      }
    }
    for (Job job : jobs) {
      if (!Kube.deleting(job)) {
        sync(job, byJob.getOrDefault(job.getMetadata().getUid(), List.of()));
      }
    }
    // Orphaned pods lose the finalizer at once; those of deleted Jobs once they have ended.
    for (Pod pod : pods) {
      String owner = Kube.controllerUid(pod, "Job");
      if (hasFinalizer(pod)
          && (owner == null || (!byUid.containsKey(owner) && Kube.terminal(pod)))) {
        release(pod);
      }
    }
  }

  private void sync(Job job, List<Pod> pods) {
    JobStatus old = job.getStatus() == null ? new JobStatus() : job.getStatus();
    JobStatus status = Kube.copy(old);
    int completions = Objects.requireNonNullElse(job.getSpec().getCompletions(), 1);
    int parallelism = Objects.requireNonNullElse(job.getSpec().getParallelism(), 1);
    int backoffLimit = Objects.requireNonNullElse(job.getSpec().getBackoffLimit(), 6);
    boolean suspended = Boolean.TRUE.equals(job.getSpec().getSuspend());
    boolean finished = isTrue(status, "Complete") || isTrue(status, "Failed");
    int succeeded = Objects.requireNonNullElse(status.getSucceeded(), 0);
    int failed = Objects.requireNonNullElse(status.getFailed(), 0);

    // Count the pods that ended and still hold the finalizer; release them after the write.
    List<Pod> ended = new ArrayList<>();
    for (Pod pod : pods) {
      if (hasFinalizer(pod) && Kube.terminal(pod)) {
        ended.add(pod);
        boolean counts = !finished && (!suspended || settings.suspendCountsStoppedPods());
        if (counts && "Succeeded".equals(pod.getStatus().getPhase())) {
          succeeded++;
        } else if (counts) {
          failed++;
        }
      }
    }
    List<Pod> active = new ArrayList<>();
    int terminating = 0;
    for (Pod pod : pods) {
      if (!Kube.terminal(pod)) {
        if (Kube.deleting(pod)) {
          terminating++;
        } else {
          active.add(pod);
        }
      }
    }
    int restarts =
        "OnFailure".equals(job.getSpec().getTemplate().getSpec().getRestartPolicy())
            ? active.stream()
                .filter(p -> p.getStatus() != null)
                .flatMap(p -> p.getStatus().getContainerStatuses().stream())
                .mapToInt(cs -> Objects.requireNonNullElse(cs.getRestartCount(), 0))
                .sum()
            : 0;

    String now = Kube.now();
    List<JobCondition> conditions = new ArrayList<>(status.getConditions());
    if (finished) {
      terminating += deleteAll(active);
      active.clear();
    } else if (isTrue(status, "SuccessCriteriaMet") || isTrue(status, "FailureTarget")) {
      terminating += deleteAll(active);
      active.clear();
      if (terminating == 0) {
        boolean success = isTrue(status, "SuccessCriteriaMet");
        JobCondition target = find(conditions, success ? "SuccessCriteriaMet" : "FailureTarget");
        conditions.add(
            condition(
                success ? "Complete" : "Failed",
                "True",
                target.getReason(),
                target.getMessage(),
                now));
        if (success) {
          status.setCompletionTime(now);
        }
      }
    } else if (succeeded >= completions) {
      conditions.add(
          condition(
              "SuccessCriteriaMet",
              "True",
              "CompletionsReached",
              "Reached expected number of succeeded pods",
              now));
      terminating += deleteAll(active);
      active.clear();
    } else if (failed + restarts > backoffLimit) {
      conditions.add(
          condition(
              "FailureTarget",
              "True",
              "BackoffLimitExceeded",
              "Job has reached the specified backoff limit",
              now));
      terminating += deleteAll(active);
      active.clear();
    } else if (suspended) {
      terminating += deleteAll(active);
      active.clear();
      setCondition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now);
    } else {
      if (setCondition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now)) {
        status.setStartTime(now);
      }
      if (status.getStartTime() == null) {
        status.setStartTime(now);
      }
      int wanted = Math.min(parallelism, completions - succeeded) - active.size();
      for (int i = 0; i < wanted; i++) {
        active.add(createPod(job));
      }
    }
    status.setConditions(conditions);
    // succeeded, failed and active are omitempty in the API: a 0 is not written.
    status.setSucceeded(succeeded == 0 ? null : succeeded);
    status.setFailed(failed == 0 ? null : failed);
    status.setActive(active.isEmpty() ? null : active.size());
    status.setReady((int) active.stream().filter(JobController::ready).count());
    status.setTerminating(terminating);
    status.setUncountedTerminatedPods(new UncountedTerminatedPods());
    if (!Kube.same(status, old)) {
      Job updated = Kube.copy(job);
      updated.setStatus(status);
      Kube.unlessGone(
          () ->
              api.batch()
                  .v1()
                  .jobs()
                  .inNamespace(job.getMetadata().getNamespace())
                  .resource(updated)
                  .updateStatus());
    }
    ended.forEach(this::release);
  }

  /** A new pod from the Job's template, named and labelled as the Job controller does. */
  private Pod createPod(Job job) {
    String name = job.getMetadata().getName();
    String uid = job.getMetadata().getUid();
    var template = job.getSpec().getTemplate();
    Map<String, String> labels = new LinkedHashMap<>();
    if (template.getMetadata() != null && template.getMetadata().getLabels() != null) {
      labels.putAll(template.getMetadata().getLabels());
    }
    labels.put("batch.kubernetes.io/controller-uid", uid);
    labels.put("batch.kubernetes.io/job-name", name);
    labels.put("controller-uid", uid);
    labels.put("job-name", name);
    Map<String, String> annotations = new LinkedHashMap<>();
    if (template.getMetadata() != null && template.getMetadata().getAnnotations() != null) {
      annotations.putAll(template.getMetadata().getAnnotations());
    }
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name + "-" + Kube.randomSuffix(5))
            .withNamespace(job.getMetadata().getNamespace())
            .withLabels(labels)
            .withAnnotations(annotations)
            .withFinalizers(TRACKING_FINALIZER)
            .withOwnerReferences(Kube.controllerRef(job))
            .endMetadata()
            .withSpec(Kube.copy(template.getSpec()))
            .build();
    Kube.defaultPod(pod);
    return api.pods().inNamespace(job.getMetadata().getNamespace()).resource(pod).create();
  }

  /** Deletes the pods (gracefully: they keep running until their containers stop). */
  private int deleteAll(List<Pod> pods) {
    for (Pod pod : pods) {
      api.pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .delete();
    }
    return pods.size();
  }

  private void release(Pod pod) {
    Kube.unlessGone(
        () ->
            api.pods()
                .inNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName())
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}"));
  }

  private static boolean hasFinalizer(Pod pod) {
    return pod.getMetadata().getFinalizers() != null
        && pod.getMetadata().getFinalizers().contains(TRACKING_FINALIZER);
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static boolean isTrue(JobStatus status, String type) {
    return status != null
        && status.getConditions().stream()
            .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static JobCondition find(List<JobCondition> conditions, String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
  }

  /**
   * Sets a condition's status; returns whether it changed (a new condition counts only if True).
   */
  private static boolean setCondition(
      List<JobCondition> conditions,
      String type,
      String status,
      String reason,
      String message,
      String now) {
    for (int i = 0; i < conditions.size(); i++) {
      JobCondition c = conditions.get(i);
      if (type.equals(c.getType())) {
        if (status.equals(c.getStatus())) {
          return false;
        }
        conditions.set(i, condition(type, status, reason, message, now));
        return true;
      }
    }
    if (status.equals("True")) {
      conditions.add(condition(type, status, reason, message, now));
      return true;
    }
    return false;
  }

  private static JobCondition condition(
      String type, String status, String reason, String message, String now) {
    return new JobConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastProbeTime(now)
        .withLastTransitionTime(now)
        .build();
  }
}
