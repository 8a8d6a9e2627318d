package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.Renderer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A phase's Job in a Kueue queue (label {@value Renderer#KUEUE_QUEUE_LABEL}): Kueue admits it by
 * unsuspending it, so Syllabus stops and starts it through its Workload's {@code spec.active}
 * instead of {@code spec.suspend}, and says what Kueue says while it waits or when it evicted the
 * Job to make room for another.
 */
final class Kueue {
  private final KubernetesClient client;
  private final String namespace;
  private final ClusterCache cache;

  Kueue(KubernetesClient client, String namespace, ClusterCache cache) {
    this.client = client;
    this.namespace = namespace;
    this.cache = cache;
  }

  /** The queue the Job is in, or null when Kueue does not admit it. */
  static String queue(Job job) {
    Map<String, String> labels = job.getMetadata().getLabels();
    return labels == null ? null : labels.get(Renderer.KUEUE_QUEUE_LABEL);
  }

  /**
   * What Kueue says of a queued Job's Workload (null while Kueue has not made one). Kueue makes no
   * Workload for a Job whose priority class ({@value Renderer#KUEUE_PRIORITY_LABEL}) it cannot
   * find, and says so only in its own log.
   */
  static String queued(Job job, String queue, GenericKubernetesResource workload) {
    if (workload == null) {
      String priority = job.getMetadata().getLabels().get(Renderer.KUEUE_PRIORITY_LABEL);
      return "queued in Kueue queue "
          + queue
          + (priority == null
              ? " (no Workload yet)"
              : " (no Workload yet; Kueue makes none while the WorkloadPriorityClass "
                  + priority
                  + " does not exist)");
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

  /**
   * Why Kueue evicted the Workload after admitting it, in a person's words, while its {@code
   * Evicted} condition is true: {@code preempted by Kueue: Preempted to accommodate a workload …}
   * (reason {@code Preempted}), or {@code evicted by Kueue (PodsReadyTimeout): …} for its other
   * reasons. Null when it was not evicted, or when it was deactivated ({@code spec.active: false},
   * reason {@code Deactivated…}; {@code InactiveWorkload…} before Kueue 0.10): that is a pause, or
   * a person's doing, and it is not admitted again on its own.
   */
  static String evicted(GenericKubernetesResource workload) {
    if (workload == null) {
      return null;
    }
    for (Map<String, Object> condition : conditions(workload)) {
      if (!"Evicted".equals(condition.get("type")) || !"True".equals(condition.get("status"))) {
        continue;
      }
      String reason = String.valueOf(condition.get("reason"));
      if (reason.startsWith("Deactivated") || reason.startsWith("InactiveWorkload")) {
        return null;
      }
      String message = condition.get("message") == null ? "" : (String) condition.get("message");
      // Kueue adds where the preemptor and the preempted sit in the cohort tree; for a person the
      // ClusterQueue named before says enough.
      int paths = message.indexOf("; preemptor path:");
      if (paths >= 0) {
        message = message.substring(0, paths);
      }
      message = PodTrouble.oneLine(message);
      return reason.equals("Preempted")
          ? "preempted by Kueue: " + message
          : "evicted by Kueue (" + reason + "): " + message;
    }
    return null;
  }

  /** The Workload that admits {@code job}, or null while Kueue has not made one. */
  GenericKubernetesResource workloadOf(Job job) {
    return cache.workloadOf(job);
  }

  /** Deactivates the Workload (Kueue evicts and suspends the Job) or activates it again. */
  void setActive(GenericKubernetesResource workload, boolean active) {
    String name = workload.getMetadata().getName();
    try {
      client
          .genericKubernetesResources(cache.workloadResource())
          .inNamespace(namespace)
          .withName(name)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              new MergePatch().spec("active", active).toString());
    } catch (KubernetesClientException e) {
      throw ClusterFailures.of(
          (active ? "activate" : "deactivate") + " Workload " + name, namespace, e);
    }
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
}
