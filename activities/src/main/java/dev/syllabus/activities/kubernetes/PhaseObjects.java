package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.PhaseLabels;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.Manifest;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The objects of one phase attempt in the worker's namespace: created with the run's labels and
 * adopted when they exist with them already (a retried activity), refused when they exist without
 * (someone else's object by that name); patched, created anew and deleted. The phase's config
 * ConfigMap lists every other object ({@value Renderer#OBJECTS_ANNOTATION}), so teardown needs no
 * list requests.
 */
final class PhaseObjects {
  private static final Logger log = LoggerFactory.getLogger(PhaseObjects.class);

  /** The kinds a phase's manifests may hold, as fabric8 types, so each is deleted as itself. */
  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "Job", Job.class,
          "Deployment", Deployment.class,
          "StatefulSet", StatefulSet.class,
          "Service", Service.class,
          "ConfigMap", ConfigMap.class);

  /** Labels the Job controller adds to a Job's pod template: a Job made anew gets its own. */
  private static final List<String> GENERATED_POD_LABELS =
      List.of(
          "controller-uid",
          "batch.kubernetes.io/controller-uid",
          "job-name",
          "batch.kubernetes.io/job-name");

  private final KubernetesClient client;
  private final String namespace;
  private final ClusterCache cache;

  PhaseObjects(KubernetesClient client, String namespace, ClusterCache cache) {
    this.client = client;
    this.namespace = namespace;
    this.cache = cache;
  }

  /** Creates one object, or adopts it when this attempt created it already. */
  HasMetadata create(JobRef job, Manifest manifest) {
    HasMetadata object = (HasMetadata) Kubeconfigs.SERIALIZATION.unmarshal(manifest.yaml());
    String what = manifest.kind() + " " + manifest.name();
    try {
      HasMetadata created = client.resource(object).inNamespace(namespace).create();
      log.info("created {} in {}", what, namespace);
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw ClusterFailures.of("create " + what, namespace, e);
      }
    }
    HasMetadata existing;
    try {
      existing = client.resource(object).inNamespace(namespace).get();
    } catch (KubernetesClientException e) {
      throw ClusterFailures.of("read " + what, namespace, e);
    }
    if (existing == null) {
      throw ApplicationFailure.newFailure(
          what + " was deleted while being created; trying again", "Conflict");
    }
    Map<String, String> labels = existing.getMetadata().getLabels();
    if (labels == null || !labels.entrySet().containsAll(PhaseLabels.attempt(job).entrySet())) {
      throw ApplicationFailure.newNonRetryableFailure(
          what
              + " already exists in namespace "
              + namespace
              + " and was not made by Syllabus for "
              + job.name()
              + " (its labels: "
              + (labels == null || labels.isEmpty() ? "none" : labels)
              + "); delete it or start the run with another id",
          "NameTaken");
    }
    log.info("adopted {}: it was created for this attempt already", what);
    return existing;
  }

  /** The Job from the informer, or from the API server when the informer has not seen it. */
  Job job(JobRef ref) {
    Job job = cache.job(ref.name());
    if (job != null) {
      return job;
    }
    try {
      return client.batch().v1().jobs().inNamespace(namespace).withName(ref.name()).get();
    } catch (KubernetesClientException e) {
      throw ClusterFailures.of("read Job " + ref.name(), namespace, e);
    }
  }

  /** Changes the Job's annotations or {@code spec.suspend}. */
  void patchJob(JobRef ref, MergePatch patch) {
    patch(Job.class, ref.name(), patch, "patch Job " + ref.name());
  }

  /** Changes a server's annotations or replicas. */
  void patchServer(HasMetadata server, MergePatch patch) {
    String name = server.getMetadata().getName();
    patch(server.getClass(), name, patch, "scale " + server.getKind() + " " + name);
  }

  private void patch(
      Class<? extends HasMetadata> type, String name, MergePatch patch, String what) {
    try {
      client
          .resources(type)
          .inNamespace(namespace)
          .withName(name)
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
    } catch (KubernetesClientException e) {
      throw ClusterFailures.of(what, namespace, e);
    }
  }

  /**
   * Makes a Job that completed while it was being stopped anew, as it was but without what the API
   * server and the Job controller filled in: a Job that completed cannot run again. It starts
   * suspended when Kueue admits it, so that Kueue does.
   */
  void recreate(JobRef ref, Job old) {
    delete("Job", ref.name());
    try {
      if (!cache.awaitJobGone(ref.name(), 60_000)) {
        throw ApplicationFailure.newFailure(
            "Job " + ref.name() + " is still being deleted; trying again", "NotYet");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    Job fresh = Kubeconfigs.SERIALIZATION.clone(old);
    fresh.setStatus(null);
    ObjectMeta was = fresh.getMetadata();
    Map<String, String> annotations =
        was.getAnnotations() == null ? new LinkedHashMap<>() : was.getAnnotations();
    annotations.remove(JobView.STOP_ANNOTATION);
    fresh.setMetadata(
        new ObjectMetaBuilder()
            .withName(was.getName())
            .withNamespace(was.getNamespace())
            .withLabels(was.getLabels())
            .withAnnotations(annotations)
            .build());
    fresh.getSpec().setSuspend(Kueue.queue(old) != null ? Boolean.TRUE : null);
    fresh.getSpec().setSelector(null);
    fresh.getSpec().setManualSelector(null);
    Map<String, String> podLabels = fresh.getSpec().getTemplate().getMetadata().getLabels();
    if (podLabels != null) {
      GENERATED_POD_LABELS.forEach(podLabels::remove);
    }
    try {
      client.resource(fresh).inNamespace(namespace).create();
    } catch (KubernetesClientException e) {
      throw ClusterFailures.of("create Job " + ref.name() + " again", namespace, e);
    }
  }

  /**
   * Deletes the phase's servers and ConfigMaps; deletes its Job (with its pods, in the background)
   * unless the Job finished, or every rank's pod succeeded (the Job controller marks it Complete a
   * second later), which is kept until its {@code ttlSecondsAfterFinished} so that its logs can be
   * read.
   */
  void teardown(JobRef ref) {
    String configName = Renderer.configMapName(ref);
    ConfigMap config;
    try {
      config = client.configMaps().inNamespace(namespace).withName(configName).get();
    } catch (KubernetesClientException e) {
      throw ClusterFailures.of("read ConfigMap " + configName, namespace, e);
    }
    List<String> objects = new ArrayList<>();
    String listed = config == null ? null : JobView.annotation(config, Renderer.OBJECTS_ANNOTATION);
    if (listed != null && !listed.isBlank()) {
      objects.addAll(List.of(listed.split(",")));
    }
    for (String object : objects) {
      int slash = object.indexOf('/');
      String kind = object.substring(0, slash);
      if (!kind.equals("Job")) {
        delete(kind, object.substring(slash + 1));
      }
    }
    Job job = job(ref);
    if (job != null) {
      if (JobView.firstCondition(job, "Complete", "SuccessCriteriaMet", "Failed", "FailureTarget")
              != null
          || JobRanks.everyRankSucceeded(job, cache.podsOf(job))) {
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
  }

  /** Deletes one object, its dependents (pods, ReplicaSets) in the background; gone is fine. */
  private void delete(String kind, String name) {
    Class<? extends HasMetadata> type = KINDS.get(kind);
    if (type == null) {
      log.warn("teardown does not delete {} {}; delete it by hand", kind, name);
      return;
    }
    try {
      var deleted =
          client
              .resources(type)
              .inNamespace(namespace)
              .withName(name)
              .withPropagationPolicy(DeletionPropagation.BACKGROUND)
              .delete();
      if (!deleted.isEmpty()) {
        log.info("deleted {} {}", kind, name);
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw ClusterFailures.of("delete " + kind + " " + name, namespace, e);
      }
    }
  }
}
