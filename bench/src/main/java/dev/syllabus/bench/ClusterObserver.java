package dev.syllabus.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.Watchable;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The bench's observer on the cluster: watches that note when a watch first saw each Job complete,
 * each pod run and each pod go (as {@link System#nanoTime}), apart from what the worker sees.
 */
final class ClusterObserver {
  private final KubernetesClient kube;
  private final String namespace;

  ClusterObserver(KubernetesClient kube, String namespace) {
    this.kube = kube;
    this.namespace = namespace;
  }

  /** When each Job was first seen {@code Complete}. */
  Watch jobsComplete(Map<String, Long> complete) {
    return watch(
        kube.batch().v1().jobs().inNamespace(namespace),
        (action, job, now) -> {
          if (job.getStatus() != null
              && job.getStatus().getConditions() != null
              && job.getStatus().getConditions().stream()
                  .anyMatch(c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus()))) {
            complete.putIfAbsent(job.getMetadata().getName(), now);
          }
        });
  }

  /** When each pod was first seen Running, and when it was deleted, by pod name. */
  Watch podsRunningAndDeleted(Map<String, Long> running, Map<String, Long> deleted) {
    return watch(
        kube.pods().inNamespace(namespace),
        (action, pod, now) -> {
          String name = pod.getMetadata().getName();
          if (action == Watcher.Action.DELETED) {
            deleted.putIfAbsent(name, now);
          } else if ("Running".equals(pod.getStatus().getPhase())
              && pod.getMetadata().getDeletionTimestamp() == null) {
            running.putIfAbsent(name, now);
          }
        });
  }

  /**
   * Pods of any namespace that belong to a chain, that is carry one of {@code chainLabels} (the
   * admin's watch; {@code kube} must be allowed to watch pods everywhere), keyed {@code
   * namespace/name}: when each was first seen (created: the watch starts before the chains do, so
   * that is its ADDED event), when it was first seen {@code Succeeded}, its chain ({@code
   * namespace/label value}) and, for a Job's pod, its Job's name.
   */
  static Watch chainPods(
      KubernetesClient kube,
      List<String> chainLabels,
      Map<String, Long> created,
      Map<String, Long> succeeded,
      Map<String, String> chainOf,
      Map<String, String> jobOf) {
    return watch(
        kube.pods().inAnyNamespace(),
        (action, pod, now) -> {
          Map<String, String> labels = pod.getMetadata().getLabels();
          String chain =
              labels == null
                  ? null
                  : chainLabels.stream()
                      .map(labels::get)
                      .filter(Objects::nonNull)
                      .findFirst()
                      .orElse(null);
          if (chain == null) {
            return;
          }
          String namespace = pod.getMetadata().getNamespace();
          String key = namespace + "/" + pod.getMetadata().getName();
          chainOf.putIfAbsent(key, namespace + "/" + chain);
          if (labels.get("job-name") != null) {
            jobOf.putIfAbsent(key, labels.get("job-name"));
          }
          created.putIfAbsent(key, now);
          if (pod.getStatus() != null && "Succeeded".equals(pod.getStatus().getPhase())) {
            succeeded.putIfAbsent(key, now);
          }
        });
  }

  /**
   * When each Job's pod was first seen Running, and when one first ended (Succeeded, Failed or
   * deleted), by Job name.
   */
  Watch podsRunningAndEnded(Map<String, Long> running, Map<String, Long> ended) {
    return watch(
        kube.pods().inNamespace(namespace),
        (action, pod, now) -> {
          String job = pod.getMetadata().getLabels().get("job-name");
          if (job == null) {
            return;
          }
          String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
          if (action == Watcher.Action.DELETED
              || "Succeeded".equals(phase)
              || "Failed".equals(phase)) {
            ended.putIfAbsent(job, now);
          } else if ("Running".equals(phase)) {
            running.putIfAbsent(job, now);
          }
        });
  }

  /** What a watch does with each event, given the moment it arrived ({@link System#nanoTime}). */
  private interface Seen<T> {
    void event(Watcher.Action action, T object, long nanos);
  }

  private static <T> Watch watch(Watchable<T> objects, Seen<T> seen) {
    return objects.watch(
        new Watcher<T>() {
          @Override
          public void eventReceived(Action action, T object) {
            seen.event(action, object, System.nanoTime());
          }

          @Override
          public void onClose(WatcherException cause) {}
        });
  }
}
