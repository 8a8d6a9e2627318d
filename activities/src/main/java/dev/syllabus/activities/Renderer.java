package dev.syllabus.activities;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.recipe.Phase;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders a phase from its framework's own manifests by injection on typed objects: names derived
 * from the run ({@link ObjectNames}), labels ({@link PhaseLabels}), per-role resources, the image
 * and the job-contract environment ({@link PodInjection}, {@link ContractEnv}) and the phase's
 * framework config as a ConfigMap ({@link FrameworkConfig}). Nothing else in the manifests changes.
 */
public final class Renderer {

  /** The volume a manifest mounts the artifact store through. */
  public static final String ARTIFACTS_VOLUME = "syllabus-artifacts";

  /** The volume a manifest mounts the phase's config file through. */
  public static final String CONFIG_VOLUME = "syllabus-config";

  /** A ConfigMap annotation listing repository files to ship as its data: {@code key=path,…}. */
  public static final String FILES_ANNOTATION = "syllabus.dev/files";

  /**
   * On the phase's config ConfigMap (created first, deleted last): every other object of the phase
   * as {@code Kind/name,…}, so that teardown finds them all without listing the cluster.
   */
  public static final String OBJECTS_ANNOTATION = "syllabus.dev/objects";

  /**
   * On a Job the kubernetes backend asked to stop (a pause, advance or skip): the reason. Removed
   * when it is resumed. A suspended Job without it waits for Kueue, and has not ended.
   */
  public static final String STOP_ANNOTATION = "syllabus.dev/stop-requested";

  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String RUN_LABEL = "syllabus.dev/run";
  public static final String PHASE_LABEL = "syllabus.dev/phase";
  public static final String PHASE_INDEX_LABEL = "syllabus.dev/phase-index";
  public static final String ATTEMPT_LABEL = "syllabus.dev/attempt";
  public static final String KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";

  /** Kueue's WorkloadPriorityClass of a queued Job: who preempts whom. */
  public static final String KUEUE_PRIORITY_LABEL = "kueue.x-k8s.io/priority-class";

  /** How long a finished Job is kept, so that its logs can be read: a day. */
  public static final int FINISHED_JOB_TTL_SECONDS = 86_400;

  public static final String TRAIN_ROLE = "train";
  public static final String GPU = "nvidia.com/gpu";

  private final Kubeconfigs kubeconfigs;

  public Renderer(Kubeconfigs kubeconfigs) {
    this.kubeconfigs = kubeconfigs;
  }

  /**
   * The manifests of one attempt of a phase, in the order they are applied: the config ConfigMap
   * first, then the workload's other objects, then its Jobs.
   */
  public RenderedPhase render(PhaseTask task, int attempt) {
    Phase phase = task.phase();
    JobRef job = JobRef.of(task.runId(), task.index(), phase.name(), attempt);
    FrameworkSettings settings = kubeconfigs.settings(phase.framework());
    List<HasMetadata> objects = workloadManifests(phase);
    String configMapName = configMapName(job);
    ObjectNames names = ObjectNames.of(job, phase, objects);
    Map<String, String> labels = PhaseLabels.of(task, attempt);

    Rendezvous rendezvous = Rendezvous.of(job, phase.resources().get(TRAIN_ROLE), settings);

    List<Manifest> jobs = new ArrayList<>();
    List<Manifest> others = new ArrayList<>();
    for (HasMetadata object : objects) {
      Manifest manifest = inject(object, task, settings, configMapName, labels, names, rendezvous);
      (object instanceof Job ? jobs : others).add(manifest);
    }
    List<HasMetadata> made = new ArrayList<>(objects);
    if (rendezvous != null) {
      Service service = rendezvous.headlessService(labels, trainerPod(objects));
      made.add(service);
      others.add(
          new Manifest(
              "Service", service.getMetadata().getName(), TRAIN_ROLE, Kubeconfigs.toYaml(service)));
    }

    String configFile =
        FrameworkConfig.write(
            task, settings, objects, names.services(), kubeconfigs.serviceNames(phase.framework()));
    ConfigMap config = configMap(configMapName, labels, made, settings.configFile(), configFile);
    List<Manifest> manifests = new ArrayList<>();
    manifests.add(new Manifest("ConfigMap", configMapName, null, Kubeconfigs.toYaml(config)));
    manifests.addAll(others);
    manifests.addAll(jobs);
    return new RenderedPhase(job, manifests);
  }

  /** The ConfigMap holding a job's config file: {@code <job>-syllabus-config}. */
  public static String configMapName(JobRef job) {
    return Names.dnsLabel(job.name() + "-" + CONFIG_VOLUME);
  }

  /** {@code SYLLABUS_SERVICE_VLLM} for a Service named {@code vllm} in the manifests. */
  public static String serviceEnvName(String originalServiceName) {
    return ObjectNames.serviceEnvName(originalServiceName);
  }

  /** The pod template of a Job, Deployment or StatefulSet; null for any other object. */
  public static PodTemplateSpec podTemplate(HasMetadata object) {
    return PodInjection.podTemplate(object);
  }

  /** The pod template of the workload's training Job, once injected. */
  private static PodTemplateSpec trainerPod(List<HasMetadata> objects) {
    for (HasMetadata object : objects) {
      if (object instanceof Job && TRAIN_ROLE.equals(Kubeconfigs.roleOf(object))) {
        return podTemplate(object);
      }
    }
    throw new IllegalArgumentException(
        "resources.train.nodes asks for several nodes, but the workload has no Job with the label "
            + Kubeconfigs.ROLE_LABEL
            + ": "
            + TRAIN_ROLE);
  }

  /** The framework's manifests for the phase's workload; there must be at least one. */
  private List<HasMetadata> workloadManifests(Phase phase) {
    List<HasMetadata> objects = kubeconfigs.manifests(phase.framework(), phase.workload());
    if (objects.isEmpty()) {
      throw new IllegalArgumentException(
          "no manifests under "
              + kubeconfigs.root().resolve(phase.framework()).resolve(phase.workload()));
    }
    return objects;
  }

  /**
   * Renames, labels and injects one object in place; its manifest as it is applied. The training
   * Job of a trainer on several nodes ({@code rendezvous} not null) runs a pod per node.
   */
  private Manifest inject(
      HasMetadata object,
      PhaseTask task,
      FrameworkSettings settings,
      String configMapName,
      Map<String, String> labels,
      ObjectNames names,
      Rendezvous rendezvous) {
    String role = Kubeconfigs.roleOf(object);
    String original = object.getMetadata().getName();
    object.getMetadata().setName(names.newName(object.getKind(), original));
    object.getMetadata().setLabels(PhaseLabels.merged(object.getMetadata().getLabels(), labels));
    boolean spansNodes = rendezvous != null && object instanceof Job && TRAIN_ROLE.equals(role);
    PodTemplateSpec pod = podTemplate(object);
    if (pod != null) {
      PodInjection.inject(
          pod, task, role, settings, configMapName, labels, names, spansNodes ? rendezvous : null);
    }
    PhaseLabels.selectAttempt(object, labels);
    if (object instanceof Job j) {
      injectJob(j, task.phase());
      if (spansNodes) {
        rendezvous.shape(j);
      }
    }
    if (object instanceof ConfigMap cm) {
      ShippedFiles.ship(cm, original, task.phase(), kubeconfigs);
    }
    return new Manifest(
        object.getKind(), object.getMetadata().getName(), role, Kubeconfigs.toYaml(object));
  }

  /**
   * A Job in a Kueue queue is created suspended (Kueue starts it once admitted), with its priority
   * class when the phase names one; every Job is kept for a day after it finished, so its logs can
   * be read.
   */
  private static void injectJob(Job job, Phase phase) {
    if (job.getSpec() == null) {
      return;
    }
    if (phase.queue() != null) {
      job.getMetadata().getLabels().put(KUEUE_QUEUE_LABEL, phase.queue());
      job.getSpec().setSuspend(true);
    }
    if (phase.priority() != null) {
      job.getMetadata().getLabels().put(KUEUE_PRIORITY_LABEL, phase.priority());
    }
    if (job.getSpec().getTtlSecondsAfterFinished() == null) {
      job.getSpec().setTtlSecondsAfterFinished(FINISHED_JOB_TTL_SECONDS);
    }
  }

  /**
   * The phase's config ConfigMap: the framework's config file as its data, and every other object
   * of the phase in its {@value #OBJECTS_ANNOTATION} annotation, for teardown.
   */
  private static ConfigMap configMap(
      String name,
      Map<String, String> labels,
      List<HasMetadata> objects,
      String configFileName,
      String configFile) {
    List<String> made = new ArrayList<>();
    for (HasMetadata object : objects) {
      made.add(object.getKind() + "/" + object.getMetadata().getName());
    }
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .addToAnnotations(OBJECTS_ANNOTATION, String.join(",", made))
        .endMetadata()
        .addToData(configFileName, configFile)
        .build();
  }
}
