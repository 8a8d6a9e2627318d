package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Kueue (v1beta1) for batch/v1 Jobs labelled {@code kueue.x-k8s.io/queue-name}, with one
 * ClusterQueue ({@code cluster-queue}, flavor {@code default-flavor}) whose {@code nvidia.com/gpu}
 * quota is the node's capacity. It creates a Workload per Job, admits Workloads in creation order
 * while their GPUs fit (then unsuspends the Job), explains the ones that wait, evicts a Workload
 * whose {@code spec.active} turns false (suspending its Job and clearing its start time) and admits
 * it again when it is active again, and marks it Finished with its Job.
 */
final class Kueue {
  static final String QUEUE_LABEL = "kueue.x-k8s.io/queue-name";
  static final String JOB_UID_LABEL = "kueue.x-k8s.io/job-uid";
  static final ResourceDefinitionContext WORKLOADS =
      new ResourceDefinitionContext.Builder()
          .withGroup("kueue.x-k8s.io")
          .withVersion("v1beta1")
          .withPlural("workloads")
          .withKind("Workload")
          .withNamespaced(true)
          .build();
  private static final String CLUSTER_QUEUE = "cluster-queue";
  private static final String FLAVOR = "default-flavor";
  private static final String DEACTIVATED = "The workload is deactivated";

  private final KubernetesClient api;
  private final SimulatedCluster.Settings settings;

  Kueue(KubernetesClient api, SimulatedCluster.Settings settings) {
    this.api = api;
    this.settings = settings;
  }

  void sync() {
    List<Job> jobs =
        api.batch().v1().jobs().inAnyNamespace().withLabel(QUEUE_LABEL).list().getItems();
    List<GenericKubernetesResource> workloads =
        new ArrayList<>(
            api.genericKubernetesResources(WORKLOADS).inAnyNamespace().list().getItems());
    Map<String, Job> jobsByUid = new HashMap<>();
    for (Job job : jobs) {
      jobsByUid.put(job.getMetadata().getUid(), job);
      boolean hasWorkload =
          workloads.stream()
              .anyMatch(w -> job.getMetadata().getUid().equals(Kube.controllerUid(w, "Job")));
      if (!hasWorkload && !Kube.deleting(job) && !finished(job)) {
        workloads.add(createWorkload(job));
        if (!Boolean.TRUE.equals(job.getSpec().getSuspend())) {
          // Kueue's webhook keeps a queued Job suspended until its Workload is admitted.
          setSuspend(job, true);
        }
      }
    }
    workloads.sort(Kube.OLDEST_FIRST);
    int used =
        workloads.stream()
            .filter(w -> reserved(w) && !isTrue(w, "Finished"))
            .mapToInt(Kueue::gpus)
            .sum();
    for (GenericKubernetesResource workload : workloads) {
      Job job = jobsByUid.get(Kube.controllerUid(workload, "Job"));
      if (job == null || isTrue(workload, "Finished")) {
        continue;
      }
      used += syncWorkload(workload, job, used);
    }
  }

  /** Brings one Workload along; returns the change in the GPUs it holds. */
  private int syncWorkload(GenericKubernetesResource workload, Job job, int used) {
    Map<String, Object> status = copyStatus(workload);
    List<Map<String, Object>> conditions = conditions(status);
    String now = Kube.now();
    long generation = Objects.requireNonNullElse(workload.getMetadata().getGeneration(), 1L);
    int gpus = gpus(workload);
    int change = 0;
    boolean active = !Boolean.FALSE.equals(spec(workload).get("active"));
    if (finished(job)) {
      boolean failed = JobController.isTrue(job.getStatus(), "Failed");
      set(
          conditions,
          generation,
          "Finished",
          "True",
          failed ? "Failed" : "Succeeded",
          failed ? failedMessage(job) : "Job finished successfully",
          now);
      change = reserved(workload) ? -gpus : 0;
    } else if (!active) {
      if (reserved(workload) || !isTrue(workload, "Evicted")) {
        set(conditions, generation, "Evicted", "True", "InactiveWorkload", DEACTIVATED, now);
        if (!Boolean.TRUE.equals(job.getSpec().getSuspend())) {
          setSuspend(job, true);
          clearStartTime(job);
        }
        boolean podsGone =
            job.getStatus() == null
                || (Objects.requireNonNullElse(job.getStatus().getActive(), 0) == 0
                    && Objects.requireNonNullElse(job.getStatus().getTerminating(), 0) == 0);
        if (reserved(workload) && podsGone && Boolean.TRUE.equals(job.getSpec().getSuspend())) {
          set(conditions, generation, "QuotaReserved", "False", "Pending", DEACTIVATED, now);
          set(
              conditions,
              generation,
              "Admitted",
              "False",
              "NoReservation",
              "The workload has no reservation",
              now);
          status.remove("admission");
          change = -gpus;
        }
      }
    } else if (!reserved(workload)) {
      int capacity = settings.gpuCapacity();
      if (used + gpus <= capacity) {
        status.put("admission", admission(workload, gpus));
        set(
            conditions,
            generation,
            "QuotaReserved",
            "True",
            "QuotaReserved",
            "Quota reserved in ClusterQueue " + CLUSTER_QUEUE,
            now);
        set(
            conditions,
            generation,
            "Admitted",
            "True",
            "Admitted",
            "The workload is admitted",
            now);
        if (isTrue(workload, "Evicted")) {
          set(
              conditions,
              generation,
              "Evicted",
              "False",
              "QuotaReserved",
              "Previously: " + DEACTIVATED,
              now);
        }
        change = gpus;
      } else {
        String why =
            gpus > capacity
                ? "insufficient quota for nvidia.com/gpu in flavor "
                    + FLAVOR
                    + ", request > maximum capacity ("
                    + gpus
                    + " > "
                    + capacity
                    + ")"
                : "insufficient unused quota for nvidia.com/gpu in flavor "
                    + FLAVOR
                    + ", "
                    + (used + gpus - capacity)
                    + " more needed";
        set(
            conditions,
            generation,
            "QuotaReserved",
            "False",
            "Pending",
            "couldn't assign flavors to pod set main: " + why,
            now);
      }
    }
    status.put("conditions", conditions);
    if (!Kube.same(status, workload.getAdditionalProperties().get("status"))) {
      GenericKubernetesResource copy = Kube.copy(workload);
      copy.getAdditionalProperties().put("status", status);
      Kube.unlessGone(
          () ->
              api.genericKubernetesResources(WORKLOADS)
                  .inNamespace(workload.getMetadata().getNamespace())
                  .resource(copy)
                  .updateStatus());
    }
    boolean admitted = active && "True".equals(statusOf(conditions, "Admitted"));
    if (admitted && Boolean.TRUE.equals(job.getSpec().getSuspend()) && !finished(job)) {
      setSuspend(job, false);
    }
    return change;
  }

  private GenericKubernetesResource createWorkload(Job job) {
    String name = job.getMetadata().getName();
    Map<String, Object> podSet = new LinkedHashMap<>();
    podSet.put("name", "main");
    podSet.put("count", Objects.requireNonNullElse(job.getSpec().getParallelism(), 1));
    podSet.put(
        "template",
        Serialization.jsonMapper().convertValue(job.getSpec().getTemplate(), Map.class));
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("active", true);
    spec.put("queueName", job.getMetadata().getLabels().get(QUEUE_LABEL));
    spec.put("podSets", List.of(podSet));
    spec.put("priority", 0);
    spec.put("priorityClassSource", "");
    GenericKubernetesResource workload =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("kueue.x-k8s.io/v1beta1")
            .withKind("Workload")
            .withNewMetadata()
            .withName(
                "job-" + name + "-" + Kube.hexHash(name + "/" + job.getMetadata().getUid(), 5))
            .withNamespace(job.getMetadata().getNamespace())
            .addToLabels(JOB_UID_LABEL, job.getMetadata().getUid())
            .withOwnerReferences(Kube.controllerRef(job))
            .endMetadata()
            .addToAdditionalProperties("spec", spec)
            .build();
    return api.genericKubernetesResources(WORKLOADS)
        .inNamespace(job.getMetadata().getNamespace())
        .resource(workload)
        .create();
  }

  private static Map<String, Object> admission(GenericKubernetesResource workload, int gpus) {
    Map<String, Object> assignment = new LinkedHashMap<>();
    assignment.put("name", "main");
    assignment.put("count", podCount(workload));
    if (gpus > 0) {
      assignment.put("flavors", Map.of(Kube.GPU, FLAVOR));
      assignment.put("resourceUsage", Map.of(Kube.GPU, String.valueOf(gpus)));
    } else {
      assignment.put("flavors", Map.of());
      assignment.put("resourceUsage", Map.of());
    }
    Map<String, Object> admission = new LinkedHashMap<>();
    admission.put("clusterQueue", CLUSTER_QUEUE);
    admission.put("podSetAssignments", List.of(assignment));
    return admission;
  }

  private void setSuspend(Job job, boolean suspend) {
    api.batch()
        .v1()
        .jobs()
        .inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
  }

  /** Kueue resets a stopped Job's start time, so its scheduling directives may change. */
  private void clearStartTime(Job job) {
    if (job.getStatus() == null || job.getStatus().getStartTime() == null) {
      return;
    }
    Job latest =
        api.batch()
            .v1()
            .jobs()
            .inNamespace(job.getMetadata().getNamespace())
            .withName(job.getMetadata().getName())
            .get();
    if (latest != null && latest.getStatus() != null) {
      latest.getStatus().setStartTime(null);
      api.batch()
          .v1()
          .jobs()
          .inNamespace(job.getMetadata().getNamespace())
          .resource(latest)
          .updateStatus();
    }
  }

  private static boolean finished(Job job) {
    return JobController.isTrue(job.getStatus(), "Complete")
        || JobController.isTrue(job.getStatus(), "Failed");
  }

  private static String failedMessage(Job job) {
    return job.getStatus().getConditions().stream()
        .filter(c -> "Failed".equals(c.getType()))
        .map(c -> c.getMessage())
        .findFirst()
        .orElse("Job failed");
  }

  /** GPUs of the whole Workload: those of one pod of its pod set times the count. */
  private static int gpus(GenericKubernetesResource workload) {
    Object podSets = spec(workload).get("podSets");
    if (!(podSets instanceof List<?> sets) || sets.isEmpty()) {
      return 0;
    }
    Map<?, ?> set = (Map<?, ?>) sets.get(0);
    io.fabric8.kubernetes.api.model.PodTemplateSpec template =
        Serialization.jsonMapper()
            .convertValue(
                set.get("template"), io.fabric8.kubernetes.api.model.PodTemplateSpec.class);
    int perPod = template.getSpec().getContainers().stream().mapToInt(Kube::gpus).sum();
    return perPod * podCount(workload);
  }

  private static int podCount(GenericKubernetesResource workload) {
    Object podSets = spec(workload).get("podSets");
    if (podSets instanceof List<?> sets && !sets.isEmpty()) {
      Object count = ((Map<?, ?>) sets.get(0)).get("count");
      return count instanceof Number n ? n.intValue() : 1;
    }
    return 1;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(GenericKubernetesResource workload) {
    Object spec = workload.getAdditionalProperties().get("spec");
    return spec instanceof Map ? (Map<String, Object>) spec : Map.of();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> copyStatus(GenericKubernetesResource workload) {
    Object status = workload.getAdditionalProperties().get("status");
    return status instanceof Map
        ? Kube.copy(new LinkedHashMap<>((Map<String, Object>) status))
        : new LinkedHashMap<>();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> conditions(Map<String, Object> status) {
    Object conditions = status.get("conditions");
    List<Map<String, Object>> list = new ArrayList<>();
    if (conditions instanceof List<?> l) {
      l.forEach(c -> list.add(new LinkedHashMap<>((Map<String, Object>) c)));
    }
    return list;
  }

  private static boolean reserved(GenericKubernetesResource workload) {
    return isTrue(workload, "QuotaReserved");
  }

  static boolean isTrue(GenericKubernetesResource workload, String type) {
    Object status = workload.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> s && "True".equals(statusOf(conditions(castMap(s)), type));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }

  private static String statusOf(List<Map<String, Object>> conditions, String type) {
    return conditions.stream()
        .filter(c -> type.equals(c.get("type")))
        .map(c -> String.valueOf(c.get("status")))
        .findFirst()
        .orElse(null);
  }

  /** A metav1.Condition: its transition time moves only when its status does. */
  private static void set(
      List<Map<String, Object>> conditions,
      long generation,
      String type,
      String status,
      String reason,
      String message,
      String now) {
    Map<String, Object> condition = new LinkedHashMap<>();
    condition.put("type", type);
    condition.put("status", status);
    condition.put("reason", reason);
    condition.put("message", message);
    condition.put("observedGeneration", generation);
    condition.put("lastTransitionTime", now);
    for (int i = 0; i < conditions.size(); i++) {
      Map<String, Object> old = conditions.get(i);
      if (type.equals(old.get("type"))) {
        if (status.equals(old.get("status"))) {
          condition.put("lastTransitionTime", old.get("lastTransitionTime"));
        }
        conditions.set(i, condition);
        return;
      }
    }
    conditions.add(condition);
  }
}
