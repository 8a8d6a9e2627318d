package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The garbage collector: a dependent (pod, ReplicaSet, EndpointSlice, Workload) whose owners are
 * all gone is deleted, as with propagation {@code Background}; the dependents of an owner deleted
 * with propagation {@code Orphan} lose their owner reference instead and stay. (The mock server
 * removes an owner at once, so {@code Foreground} is treated like {@code Background}.)
 */
final class GarbageCollector {
  private final KubernetesClient api;
  private final Set<String> orphaned = ConcurrentHashMap.newKeySet();

  GarbageCollector(KubernetesClient api) {
    this.api = api;
  }

  /** Notes that the owner with this uid was deleted with propagation Orphan. */
  void orphan(String uid) {
    orphaned.add(uid);
  }

  void collect() {
    Set<String> owners = new HashSet<>();
    List<HasMetadata> all = new ArrayList<>();
    all.addAll(api.batch().v1().jobs().inAnyNamespace().list().getItems());
    all.addAll(api.apps().deployments().inAnyNamespace().list().getItems());
    all.addAll(api.services().inAnyNamespace().list().getItems());
    List<ReplicaSet> replicaSets = api.apps().replicaSets().inAnyNamespace().list().getItems();
    all.addAll(replicaSets);
    all.forEach(o -> owners.add(o.getMetadata().getUid()));
    collect(
        replicaSets,
        owners,
        o ->
            api.apps()
                .replicaSets()
                .inNamespace(o.getMetadata().getNamespace())
                .withName(o.getMetadata().getName()));
    collect(
        api.pods().inAnyNamespace().list().getItems(),
        owners,
        o ->
            api.pods()
                .inNamespace(o.getMetadata().getNamespace())
                .withName(o.getMetadata().getName()));
    collect(
        api.discovery().v1().endpointSlices().inAnyNamespace().list().getItems(),
        owners,
        o ->
            api.discovery()
                .v1()
                .endpointSlices()
                .inNamespace(o.getMetadata().getNamespace())
                .withName(o.getMetadata().getName()));
    collect(
        api.genericKubernetesResources(Kueue.WORKLOADS).inAnyNamespace().list().getItems(),
        owners,
        o ->
            api.genericKubernetesResources(Kueue.WORKLOADS)
                .inNamespace(o.getMetadata().getNamespace())
                .withName(o.getMetadata().getName()));
  }

  private <T extends HasMetadata> void collect(
      List<T> dependents, Set<String> owners, Function<T, Resource<T>> resource) {
    for (T dependent : dependents) {
      List<OwnerReference> refs =
          Objects.requireNonNullElse(dependent.getMetadata().getOwnerReferences(), List.of());
      if (refs.isEmpty() || refs.stream().anyMatch(r -> owners.contains(r.getUid()))) {
        continue;
      }
      if (refs.stream().allMatch(r -> orphaned.contains(r.getUid()))) {
        Kube.unlessGone(
            () ->
                resource
                    .apply(dependent)
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"ownerReferences\":null}}"));
      } else if (!Kube.deleting(dependent)) {
        Kube.unlessGone(() -> resource.apply(dependent).delete());
      }
    }
  }
}
