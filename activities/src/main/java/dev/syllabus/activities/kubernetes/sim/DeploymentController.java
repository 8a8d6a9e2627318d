package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Deployment and ReplicaSet controllers (apps/v1): each Deployment gets a ReplicaSet named
 * after the hash of its pod template ({@code <name>-<pod-template-hash>}), older ReplicaSets are
 * scaled to zero (every rollout is all at once), ReplicaSets keep their replica count of pods, and
 * both write the status fields and the {@code Available} and {@code Progressing} conditions.
 */
final class DeploymentController {
  private final KubernetesClient api;

  DeploymentController(KubernetesClient api) {
    this.api = api;
  }

  void sync() {
    List<Deployment> deployments = api.apps().deployments().inAnyNamespace().list().getItems();
    List<ReplicaSet> replicaSets = api.apps().replicaSets().inAnyNamespace().list().getItems();
    List<Pod> pods = api.pods().inAnyNamespace().list().getItems();
    Map<String, List<Pod>> podsBySet = new HashMap<>();
    for (Pod pod : pods) {
      String owner = Kube.controllerUid(pod, "ReplicaSet");
      if (owner != null && !Kube.terminal(pod)) {
        podsBySet.computeIfAbsent(owner, k -> new ArrayList<>()).add(pod);
      }
    }
    for (Deployment deployment : deployments) {
      if (!Kube.deleting(deployment)) {
        syncDeployment(deployment, replicaSets, podsBySet);
      }
    }
    for (ReplicaSet set : api.apps().replicaSets().inAnyNamespace().list().getItems()) {
      if (!Kube.deleting(set)) {
        syncReplicaSet(set, podsBySet.getOrDefault(set.getMetadata().getUid(), List.of()));
      }
    }
  }

  private void syncDeployment(
      Deployment deployment, List<ReplicaSet> replicaSets, Map<String, List<Pod>> podsBySet) {
    String namespace = deployment.getMetadata().getNamespace();
    int desired = Objects.requireNonNullElse(deployment.getSpec().getReplicas(), 1);
    String hash = Kube.safeHash(Serialization.asJson(deployment.getSpec().getTemplate()), 10);
    String newName = deployment.getMetadata().getName() + "-" + hash;
    ReplicaSet current = null;
    List<ReplicaSet> owned = new ArrayList<>();
    for (ReplicaSet set : replicaSets) {
      if (deployment.getMetadata().getUid().equals(Kube.controllerUid(set, "Deployment"))) {
        owned.add(set);
        if (set.getMetadata().getName().equals(newName)) {
          current = set;
        }
      }
    }
    boolean created = false;
    if (current == null) {
      current = createReplicaSet(deployment, newName, hash, desired, owned.size() + 1);
      owned.add(current);
      created = true;
    } else if (!Objects.equals(current.getSpec().getReplicas(), desired)) {
      scale(current, desired);
    }
    for (ReplicaSet old : owned) {
      if (old != current && !Objects.equals(old.getSpec().getReplicas(), 0)) {
        scale(old, 0);
      }
    }
    int replicas = 0;
    int ready = 0;
    for (ReplicaSet set : owned) {
      for (Pod pod : podsBySet.getOrDefault(set.getMetadata().getUid(), List.of())) {
        replicas++;
        ready += ready(pod) ? 1 : 0;
      }
    }
    List<Pod> updatedPods = podsBySet.getOrDefault(current.getMetadata().getUid(), List.of());
    int updated = updatedPods.size();
    int available = ready;
    DeploymentStatus old =
        deployment.getStatus() == null ? new DeploymentStatus() : deployment.getStatus();
    DeploymentStatus status = new DeploymentStatus();
    status.setObservedGeneration(deployment.getMetadata().getGeneration());
    status.setReplicas(replicas);
    status.setUpdatedReplicas(updated);
    status.setReadyReplicas(ready);
    status.setAvailableReplicas(available);
    status.setUnavailableReplicas(replicas - available > 0 ? replicas - available : null);
    int maxUnavailable = desired / 4;
    boolean isAvailable = available >= desired - maxUnavailable;
    String setName = current.getMetadata().getName();
    List<DeploymentCondition> conditions = new ArrayList<>();
    conditions.add(
        condition(
            old,
            "Available",
            isAvailable ? "True" : "False",
            isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            isAvailable
                ? "Deployment has minimum availability."
                : "Deployment does not have minimum availability."));
    boolean done = updated == desired && available >= desired && replicas == desired;
    conditions.add(
        condition(
            old,
            "Progressing",
            "True",
            done
                ? "NewReplicaSetAvailable"
                : created ? "NewReplicaSetCreated" : "ReplicaSetUpdated",
            done
                ? "ReplicaSet \"" + setName + "\" has successfully progressed."
                : created
                    ? "Created new replica set \"" + setName + "\""
                    : "ReplicaSet \"" + setName + "\" is progressing."));
    status.setConditions(conditions);
    if (!Kube.same(status, old)) {
      Deployment copy = Kube.copy(deployment);
      copy.setStatus(status);
      Kube.unlessGone(
          () -> api.apps().deployments().inNamespace(namespace).resource(copy).updateStatus());
    }
  }

  private ReplicaSet createReplicaSet(
      Deployment deployment, String name, String hash, int replicas, int revision) {
    PodTemplateSpec template = Kube.copy(deployment.getSpec().getTemplate());
    Map<String, String> labels = new LinkedHashMap<>(template.getMetadata().getLabels());
    labels.put("pod-template-hash", hash);
    template.getMetadata().setLabels(labels);
    LabelSelector selector = Kube.copy(deployment.getSpec().getSelector());
    Map<String, String> matchLabels =
        new LinkedHashMap<>(Objects.requireNonNullElse(selector.getMatchLabels(), Map.of()));
    matchLabels.put("pod-template-hash", hash);
    selector.setMatchLabels(matchLabels);
    ReplicaSet set =
        new ReplicaSetBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(deployment.getMetadata().getNamespace())
            .withLabels(labels)
            .addToAnnotations("deployment.kubernetes.io/desired-replicas", String.valueOf(replicas))
            .addToAnnotations("deployment.kubernetes.io/max-replicas", String.valueOf(replicas + 1))
            .addToAnnotations("deployment.kubernetes.io/revision", String.valueOf(revision))
            .withOwnerReferences(Kube.controllerRef(deployment))
            .endMetadata()
            .withNewSpec()
            .withReplicas(replicas)
            .withSelector(selector)
            .withTemplate(template)
            .endSpec()
            .build();
    return api.apps()
        .replicaSets()
        .inNamespace(set.getMetadata().getNamespace())
        .resource(set)
        .create();
  }

  private void scale(ReplicaSet set, int replicas) {
    api.apps()
        .replicaSets()
        .inNamespace(set.getMetadata().getNamespace())
        .withName(set.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":" + replicas + "}}");
  }

  private void syncReplicaSet(ReplicaSet set, List<Pod> owned) {
    String namespace = set.getMetadata().getNamespace();
    int desired = Objects.requireNonNullElse(set.getSpec().getReplicas(), 1);
    List<Pod> live = new ArrayList<>(owned.stream().filter(p -> !Kube.deleting(p)).toList());
    while (live.size() < desired) {
      live.add(createPod(set));
    }
    if (live.size() > desired) {
      live.sort(Comparator.comparing((Pod p) -> p.getMetadata().getCreationTimestamp()).reversed());
      for (Pod extra : live.subList(0, live.size() - desired)) {
        api.pods().inNamespace(namespace).withName(extra.getMetadata().getName()).delete();
      }
      live = new ArrayList<>(live.subList(live.size() - desired, live.size()));
    }
    int ready = (int) live.stream().filter(DeploymentController::ready).count();
    ReplicaSetStatus status = new ReplicaSetStatus();
    status.setReplicas(live.size());
    status.setFullyLabeledReplicas(live.size());
    status.setReadyReplicas(ready);
    status.setAvailableReplicas(ready);
    status.setObservedGeneration(set.getMetadata().getGeneration());
    if (!Kube.same(status, set.getStatus())) {
      ReplicaSet copy = Kube.copy(set);
      copy.setStatus(status);
      Kube.unlessGone(
          () -> api.apps().replicaSets().inNamespace(namespace).resource(copy).updateStatus());
    }
  }

  private Pod createPod(ReplicaSet set) {
    PodTemplateSpec template = set.getSpec().getTemplate();
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(set.getMetadata().getName() + "-" + Kube.randomSuffix(5))
            .withGenerateName(set.getMetadata().getName() + "-")
            .withNamespace(set.getMetadata().getNamespace())
            .withLabels(template.getMetadata().getLabels())
            .withAnnotations(template.getMetadata().getAnnotations())
            .withOwnerReferences(Kube.controllerRef(set))
            .endMetadata()
            .withSpec(Kube.copy(template.getSpec()))
            .build();
    Kube.defaultPod(pod);
    return api.pods().inNamespace(set.getMetadata().getNamespace()).resource(pod).create();
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null
        && !Kube.deleting(pod)
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** A condition keeping its times while its status (transition) or reason (update) stays. */
  private static DeploymentCondition condition(
      DeploymentStatus old, String type, String status, String reason, String message) {
    String now = Kube.now();
    String transition = now;
    String update = now;
    for (DeploymentCondition c : old.getConditions()) {
      if (type.equals(c.getType())) {
        if (status.equals(c.getStatus())) {
          transition = c.getLastTransitionTime();
        }
        if (status.equals(c.getStatus()) && reason.equals(c.getReason())) {
          update = c.getLastUpdateTime();
        }
      }
    }
    return new DeploymentConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastUpdateTime(update)
        .withLastTransitionTime(transition)
        .build();
  }
}
