package dev.syllabus.starter;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.PhaseLabels;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.JobRef;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ContainerResource;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import io.fabric8.kubernetes.client.dsl.Loggable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A workload of one attempt of a phase on the {@code kubernetes} backend, as {@code syllabus logs}
 * reads it: the logs of its pods through the API server, oldest pod first (a paused and resumed
 * trainer has had several). The trainer's pods are those of the attempt's Job; a server's, those
 * labelled with the attempt and its role ({@value Kubeconfigs#ROLE_LABEL}). A trainer on several
 * nodes has a pod per rank (its completion index): only those of the rank asked for are read, rank
 * 0 unless told otherwise, since that is the rank that prints the progress.
 */
final class ClusterJobLog {
  private static final long POLL_MILLIS = 500;

  /** How long a stream whose container has ended may stay quiet before it is taken as done. */
  private static final long QUIET_MILLIS = 1000;

  private final KubernetesClient client;
  private final String namespace;
  private final JobRef job;
  private final String role;
  private final int rank;

  ClusterJobLog(KubernetesClient client, String namespace, JobRef job, String role, int rank) {
    this.client = client;
    this.namespace = namespace;
    this.job = job;
    this.role = role;
    this.rank = rank;
  }

  /** The workload's pods, oldest first. */
  List<Pod> pods() {
    return client
        .pods()
        .inNamespace(namespace)
        .withLabels(PhaseLabels.attempt(job))
        .list()
        .getItems()
        .stream()
        .filter(this::runsWorkload)
        .sorted(Comparator.comparing(p -> Instant.parse(p.getMetadata().getCreationTimestamp())))
        .toList();
  }

  private boolean runsWorkload(Pod pod) {
    if (Renderer.TRAIN_ROLE.equals(role)) {
      List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
      return owners != null
          && owners.stream()
              .anyMatch(o -> "Job".equals(o.getKind()) && job.name().equals(o.getName()))
          && rankOf(pod) == rank;
    }
    return pod.getMetadata().getLabels() != null
        && role.equals(pod.getMetadata().getLabels().get(Kubeconfigs.ROLE_LABEL));
  }

  /**
   * Prints the logs of the workload's pods that have started (the last {@code tail} lines of each,
   * or all when null) and, with {@code follow}, what they print next, and the pods that come after
   * them, until the workload ends: the trainer's Job completed, failed, was stopped (paused) or
   * deleted; a server's last pod ended.
   */
  void print(Integer tail, boolean follow, LogLines out) throws InterruptedException {
    Set<String> done = new HashSet<>();
    while (true) {
      Pod next = pods().stream().filter(p -> !done.contains(name(p))).findFirst().orElse(null);
      if (next == null) {
        if (follow && trainerActive()) {
          Thread.sleep(POLL_MILLIS);
          continue;
        }
        out.flush();
        return;
      }
      if (!started(next)) {
        if (!follow || ended(next)) {
          done.add(name(next)); // never started: nothing to print
          continue;
        }
        Thread.sleep(POLL_MILLIS);
        continue;
      }
      done.add(name(next));
      if (follow) {
        watch(next, tail, out);
      } else {
        copy(next, tail, out);
      }
    }
  }

  /**
   * Streams the pod's log until its container ends (or the pod is deleted). A kubelet ends the
   * stream then; where a stream outlives its container (kwok serves the testbed's logs so), it is
   * closed once the container has ended and the stream has been quiet for a second.
   */
  private void watch(Pod pod, Integer tail, LogLines out) throws InterruptedException {
    ContainerResource container = container(pod).withReadyWaitTimeout(0);
    Loggable logs = tail == null ? container : container.tailingLines(tail);
    try (LogWatch watch = logs.watchLog(out)) {
      CompletableFuture<Throwable> closed = watch.onClose().toCompletableFuture();
      while (true) {
        try {
          closed.get(1, TimeUnit.SECONDS);
          break;
        } catch (TimeoutException e) {
          if (ended(pod) && out.quietFor(QUIET_MILLIS)) {
            break;
          }
        }
      }
    } catch (ExecutionException e) {
      // the stream broke; what came through is printed, and the next pod (if any) follows
    }
    out.flush();
  }

  /**
   * Prints the pod's log as it is now. Read whole, and tried up to three times: the testbed's kwok
   * at times closes the connection before the end of a log.
   */
  private void copy(Pod pod, Integer tail, LogLines out) {
    ContainerResource container = container(pod).withReadyWaitTimeout(0);
    Loggable logs = tail == null ? container : container.tailingLines(tail);
    String text = null;
    for (int attempt = 1; text == null; attempt++) {
      try {
        text = logs.getLog();
      } catch (KubernetesClientException e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    out.write(bytes, 0, bytes.length);
    out.flush();
  }

  private ContainerResource container(Pod pod) {
    return client
        .pods()
        .inNamespace(namespace)
        .withName(name(pod))
        .inContainer(pod.getSpec().getContainers().get(0).getName());
  }

  /**
   * Whether the attempt's Job may still start a pod: it exists, Syllabus did not stop it (a pause,
   * advance or skip), and it has neither completed nor failed. A Job Kueue holds suspended (queued,
   * or preempted) may still. Servers have no such end: a server's log ends with its last pod.
   */
  private boolean trainerActive() {
    if (!Renderer.TRAIN_ROLE.equals(role)) {
      return false;
    }
    Job found = client.batch().v1().jobs().inNamespace(namespace).withName(job.name()).get();
    if (found == null
        || (found.getMetadata().getAnnotations() != null
            && found.getMetadata().getAnnotations().containsKey(Renderer.STOP_ANNOTATION))) {
      return false;
    }
    List<JobCondition> conditions =
        found.getStatus() == null ? null : found.getStatus().getConditions();
    return conditions == null
        || conditions.stream()
            .noneMatch(
                c ->
                    ("Complete".equals(c.getType()) || "Failed".equals(c.getType()))
                        && "True".equals(c.getStatus()));
  }

  /** The pod's rank: its completion index on several nodes, 0 on one. */
  private static int rankOf(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    String index =
        annotations == null ? null : annotations.get("batch.kubernetes.io/job-completion-index");
    try {
      return index == null ? 0 : Integer.parseInt(index);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String name(Pod pod) {
    return pod.getMetadata().getName();
  }

  /** Whether the pod's container has started, so that it has a log. */
  static boolean started(Pod pod) {
    List<ContainerStatus> statuses =
        pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses();
    if (statuses == null || statuses.isEmpty()) {
      return false;
    }
    var state = statuses.get(0).getState();
    return state != null && (state.getRunning() != null || state.getTerminated() != null);
  }

  /** Whether the pod is gone, or has ended, or its container has. */
  private boolean ended(Pod pod) {
    Pod now = client.pods().inNamespace(namespace).withName(name(pod)).get();
    if (now == null) {
      return true;
    }
    String phase = now.getStatus() == null ? null : now.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return true;
    }
    List<ContainerStatus> statuses = now.getStatus().getContainerStatuses();
    return statuses != null
        && !statuses.isEmpty()
        && statuses.get(0).getState() != null
        && statuses.get(0).getState().getTerminated() != null;
  }
}
