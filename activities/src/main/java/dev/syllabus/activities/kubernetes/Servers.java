package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.PhaseLabels;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A phase's servers (vLLM, rewards: its Deployments, StatefulSets and Services): whether they can
 * take requests, and scaling them to zero while the phase is stopped, so that a paused phase holds
 * no GPUs, and back.
 */
final class Servers {
  private static final Logger log = LoggerFactory.getLogger(Servers.class);

  /**
   * On a stopped phase's server (Deployment, StatefulSet): its replicas before the stop scaled it
   * to zero.
   */
  static final String REPLICAS_ANNOTATION = "syllabus.dev/replicas";

  private final ClusterCache cache;
  private final PhaseObjects objects;

  Servers(ClusterCache cache, PhaseObjects objects) {
    this.cache = cache;
    this.objects = objects;
  }

  /**
   * Whether every Deployment and StatefulSet the phase rendered is available and every Service with
   * a selector has a ready endpoint, from what the informers show; a server pod that cannot start
   * makes it permanent, as waiting will not start it.
   */
  ServersStatus status(RenderedPhase rendered) {
    List<String> waiting = new ArrayList<>();
    for (Manifest m : rendered.manifests()) {
      switch (m.kind()) {
        case "Deployment" -> {
          Deployment d = cache.deployment(m.name());
          Integer available =
              d == null || d.getStatus() == null ? null : d.getStatus().getAvailableReplicas();
          if (!up(d, available)) {
            waiting.add(
                "Deployment "
                    + m.name()
                    + " ("
                    + count(available)
                    + "/"
                    + wanted(d)
                    + " available)");
          }
        }
        case "StatefulSet" -> {
          StatefulSet s = cache.statefulSet(m.name());
          Integer ready =
              s == null || s.getStatus() == null ? null : s.getStatus().getReadyReplicas();
          if (!up(s, ready)) {
            waiting.add(
                "StatefulSet " + m.name() + " (" + count(ready) + "/" + wanted(s) + " ready)");
          }
        }
        case "Service" -> {
          Service service = (Service) Kubeconfigs.SERIALIZATION.unmarshal(m.yaml());
          var spec = service.getSpec();
          // The headless Service of a trainer on several nodes names its pods; it serves nothing.
          boolean selects =
              spec != null
                  && spec.getSelector() != null
                  && !spec.getSelector().isEmpty()
                  && !Renderer.TRAIN_ROLE.equals(m.role());
          if (selects && !hasReadyEndpoint(cache.endpointSlices(m.name()))) {
            waiting.add("Service " + m.name() + " (no ready endpoints)");
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
    for (Pod pod : cache.pods(PhaseLabels.attempt(rendered.job()))) {
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

  /** Scales a stopped phase's servers to zero, remembering how many replicas each had. */
  void scaleDown(JobRef ref) {
    for (HasMetadata server : cache.servers(PhaseLabels.attempt(ref))) {
      if (JobView.annotation(server, REPLICAS_ANNOTATION) != null) {
        continue; // stopped already
      }
      int replicas = specReplicas(server);
      objects.patchServer(
          server,
          new MergePatch()
              .annotation(REPLICAS_ANNOTATION, Integer.toString(replicas))
              .spec("replicas", 0));
      log.info(
          "scaled {} {} to 0 while {} is stopped",
          server.getKind(),
          server.getMetadata().getName(),
          ref.name());
    }
  }

  /** Scales a stopped phase's servers back to the replicas they had. */
  void scaleUp(JobRef ref) {
    for (HasMetadata server : cache.servers(PhaseLabels.attempt(ref))) {
      String replicas = JobView.annotation(server, REPLICAS_ANNOTATION);
      if (replicas == null) {
        continue;
      }
      objects.patchServer(
          server,
          new MergePatch()
              .annotation(REPLICAS_ANNOTATION, null)
              .spec("replicas", Integer.parseInt(replicas)));
      log.info(
          "scaled {} {} back to {}", server.getKind(), server.getMetadata().getName(), replicas);
    }
  }

  /**
   * Whether a server runs as many replicas as it asks for, as its controller last saw it: one the
   * informer shows still stopped, or whose latest spec its controller has not seen yet, is not up,
   * so that a server just scaled back up does not count as ready on its old status.
   */
  private static boolean up(HasMetadata server, Integer ready) {
    if (server == null || JobView.annotation(server, REPLICAS_ANNOTATION) != null) {
      return false;
    }
    Long generation = server.getMetadata().getGeneration();
    Long observed =
        server instanceof Deployment d
            ? (d.getStatus() == null ? null : d.getStatus().getObservedGeneration())
            : (((StatefulSet) server).getStatus() == null
                ? null
                : ((StatefulSet) server).getStatus().getObservedGeneration());
    if (generation != null && (observed == null || observed < generation)) {
      return false;
    }
    return count(ready) >= wanted(server);
  }

  /** The replicas the server's spec asks for (1 when it does not say). */
  private static int specReplicas(HasMetadata server) {
    Integer n =
        server instanceof Deployment d
            ? d.getSpec().getReplicas()
            : ((StatefulSet) server).getSpec().getReplicas();
    return n == null ? 1 : n;
  }

  private static int count(Integer replicas) {
    return replicas == null ? 0 : replicas;
  }

  /** The replicas a Deployment or StatefulSet asks for: at least one, as a server must run. */
  private static int wanted(HasMetadata server) {
    if (server == null) {
      return 1;
    }
    String stopped = JobView.annotation(server, REPLICAS_ANNOTATION);
    if (stopped != null) {
      return Math.max(1, Integer.parseInt(stopped));
    }
    return Math.max(1, specReplicas(server));
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
}
