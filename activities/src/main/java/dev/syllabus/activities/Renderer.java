package dev.syllabus.activities;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.WorkloadResources;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a phase from its framework's own manifests by injection on typed objects: names derived
 * from the run, labels, per-role resources, the image, the job-contract environment and the phase's
 * framework config as a ConfigMap. Nothing else in the manifests changes.
 */
public final class Renderer {

  /** The volume a manifest mounts the artifact store through. */
  public static final String ARTIFACTS_VOLUME = "syllabus-artifacts";

  /** The volume a manifest mounts the phase's config file through. */
  public static final String CONFIG_VOLUME = "syllabus-config";

  public static final String TRAIN_ROLE = "train";
  public static final String GPU = "nvidia.com/gpu";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

  private final Kubeconfigs kubeconfigs;

  public Renderer(Kubeconfigs kubeconfigs) {
    this.kubeconfigs = kubeconfigs;
  }

  public RenderedPhase render(PhaseTask task, int attempt) {
    Phase phase = task.phase();
    JobRef job = JobRef.of(task.runId(), task.index(), phase.name(), attempt);
    FrameworkSettings settings = kubeconfigs.settings(phase.framework());
    List<HasMetadata> objects = kubeconfigs.manifests(phase.framework(), phase.workload());
    if (objects.isEmpty()) {
      throw new IllegalArgumentException(
          "no manifests under "
              + kubeconfigs.root().resolve(phase.framework()).resolve(phase.workload()));
    }
    String prefix = task.runId() + "-" + task.index() + "-" + phase.name();
    String configMapName = Names.dnsLabel(job.name() + "-config");

    Map<String, String> renamed = new HashMap<>();
    for (HasMetadata object : objects) {
      String original = object.getMetadata().getName();
      String name = object instanceof Job ? job.name() : Names.dnsLabel(prefix + "-" + original);
      renamed.put(object.getKind() + "/" + original, name);
    }
    Map<String, String> labels = labels(task, attempt);

    List<Manifest> jobs = new ArrayList<>();
    List<Manifest> others = new ArrayList<>();
    for (HasMetadata object : objects) {
      String role = Kubeconfigs.roleOf(object);
      object
          .getMetadata()
          .setName(renamed.get(object.getKind() + "/" + object.getMetadata().getName()));
      object.getMetadata().setLabels(merged(object.getMetadata().getLabels(), labels));
      PodTemplateSpec pod = podTemplate(object);
      if (pod != null) {
        injectPod(pod, task, role, settings, configMapName, labels, renamed);
      }
      Manifest manifest =
          new Manifest(
              object.getKind(), object.getMetadata().getName(), role, Kubeconfigs.toYaml(object));
      (object instanceof Job ? jobs : others).add(manifest);
    }

    ConfigMap config =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(configMapName)
            .withLabels(labels)
            .endMetadata()
            .addToData(settings.configFile(), frameworkConfig(task, settings))
            .build();
    List<Manifest> manifests = new ArrayList<>();
    manifests.add(new Manifest("ConfigMap", configMapName, null, Kubeconfigs.toYaml(config)));
    manifests.addAll(others);
    manifests.addAll(jobs);
    return new RenderedPhase(job, manifests);
  }

  /** The labels every object of the phase carries, so it can be found and cleaned up. */
  static Map<String, String> labels(PhaseTask task, int attempt) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/managed-by", "syllabus");
    labels.put("syllabus.dev/run", task.runId());
    labels.put("syllabus.dev/phase", task.phase().name());
    labels.put("syllabus.dev/phase-index", Integer.toString(task.index()));
    labels.put("syllabus.dev/attempt", Integer.toString(attempt));
    return labels;
  }

  private void injectPod(
      PodTemplateSpec pod,
      PhaseTask task,
      String role,
      FrameworkSettings settings,
      String configMapName,
      Map<String, String> labels,
      Map<String, String> renamed) {
    if (pod.getMetadata() != null) {
      pod.getMetadata().setLabels(merged(pod.getMetadata().getLabels(), labels));
    }
    List<Volume> volumes =
        pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes();
    for (Volume volume : volumes) {
      if (volume.getConfigMap() == null) {
        continue;
      }
      if (CONFIG_VOLUME.equals(volume.getName())) {
        volume.getConfigMap().setName(configMapName);
      } else {
        String renamedTo = renamed.get("ConfigMap/" + volume.getConfigMap().getName());
        if (renamedTo != null) {
          volume.getConfigMap().setName(renamedTo);
        }
      }
    }
    List<Container> containers = pod.getSpec().getContainers();
    if (containers == null || containers.isEmpty()) {
      return;
    }
    Container main = containers.get(0);
    Phase phase = task.phase();
    WorkloadResources wanted = role == null ? null : phase.resources().get(role);
    if (wanted != null) {
      main.setResources(resources(main.getResources(), wanted));
    }
    if (TRAIN_ROLE.equals(role) && phase.image() != null) {
      main.setImage(phase.image());
    }
    Map<String, String> env = contractEnv(task, main, settings);
    for (Container container : containers) {
      container.setEnv(withEnv(container.getEnv(), env));
    }
  }

  /**
   * The job contract's environment. Paths are as the job sees them: under the mount path of the
   * {@value #ARTIFACTS_VOLUME} and {@value #CONFIG_VOLUME} volumes of its main container.
   */
  static Map<String, String> contractEnv(
      PhaseTask task, Container main, FrameworkSettings settings) {
    String store = mountPath(main, ARTIFACTS_VOLUME);
    String config = mountPath(main, CONFIG_VOLUME);
    Phase phase = task.phase();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SYLLABUS_RUN_ID", task.runId());
    env.put("SYLLABUS_PHASE", phase.name());
    env.put("SYLLABUS_PHASE_INDEX", Integer.toString(task.index()));
    env.put("SYLLABUS_STEP_START", Long.toString(task.steps().start()));
    env.put("SYLLABUS_STEP_END", Long.toString(task.steps().end()));
    env.put("SYLLABUS_TOTAL_STEPS", Long.toString(task.totalSteps()));
    env.put("SYLLABUS_INPUT_MODEL", location(task.input().model(), store));
    boolean carry = phase.optimizer().state() == OptimizerState.CARRY;
    env.put("SYLLABUS_INPUT_OPTIMIZER", carry ? location(task.input().optimizer(), store) : "");
    if (store != null) {
      env.put(
          "SYLLABUS_OUTPUT_DIR",
          store + "/" + Names.phaseFolder(task.runId(), task.index(), phase.name()));
    }
    if (config != null) {
      env.put("SYLLABUS_CONFIG", config + "/" + settings.configFile());
    }
    if (phase.pullLatest()) {
      env.put("PULL_LATEST", "1");
    }
    return env;
  }

  private static String location(ArtifactRef ref, String store) {
    if (ref == null) {
      return "";
    }
    if (ref.isExternal() || store == null) {
      return ref.uri();
    }
    return store + "/" + ref.path();
  }

  private static String mountPath(Container container, String volume) {
    if (container.getVolumeMounts() == null) {
      return null;
    }
    for (VolumeMount mount : container.getVolumeMounts()) {
      if (volume.equals(mount.getName())) {
        return mount.getMountPath().replaceAll("/+$", "");
      }
    }
    return null;
  }

  /**
   * The phase's {@code config}, with the recipe's optimizer and data under the framework's keys.
   */
  static String frameworkConfig(PhaseTask task, FrameworkSettings settings) {
    Phase phase = task.phase();
    Map<String, Object> config = new LinkedHashMap<>(phase.config());
    for (Map.Entry<String, String> key : settings.keys().entrySet()) {
      Object value =
          switch (key.getKey()) {
            case "optimizer.name" -> phase.optimizer().name();
            case "optimizer.lr" -> phase.optimizer().lr();
            case "data.datasets" -> task.data() == null ? null : task.data().datasets();
            default -> null;
          };
      if (value != null) {
        config.put(key.getValue(), value);
      }
    }
    try {
      return "json".equals(settings.configFormat())
          ? JSON.writeValueAsString(config) + "\n"
          : YAML.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot write the config of phase " + phase.name() + ": " + e.getMessage(), e);
    }
  }

  private static ResourceRequirements resources(
      ResourceRequirements current, WorkloadResources wanted) {
    ResourceRequirements r = current == null ? new ResourceRequirements() : current;
    Map<String, Quantity> requests =
        r.getRequests() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(r.getRequests());
    Map<String, Quantity> limits =
        r.getLimits() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(r.getLimits());
    if (wanted.gpu() != null) {
      requests.put(GPU, new Quantity(Integer.toString(wanted.gpu())));
      limits.put(GPU, new Quantity(Integer.toString(wanted.gpu())));
    }
    if (wanted.cpu() != null) {
      requests.put("cpu", new Quantity(wanted.cpu()));
    }
    if (wanted.memory() != null) {
      requests.put("memory", new Quantity(wanted.memory()));
      limits.put("memory", new Quantity(wanted.memory()));
    }
    r.setRequests(requests);
    r.setLimits(limits.isEmpty() ? null : limits);
    return r;
  }

  private static List<EnvVar> withEnv(List<EnvVar> current, Map<String, String> injected) {
    List<EnvVar> out = new ArrayList<>();
    if (current != null) {
      for (EnvVar var : current) {
        if (!injected.containsKey(var.getName())) {
          out.add(var);
        }
      }
    }
    injected.forEach((k, v) -> out.add(new EnvVar(k, v, null)));
    return out;
  }

  private static Map<String, String> merged(
      Map<String, String> current, Map<String, String> added) {
    Map<String, String> out = new LinkedHashMap<>();
    if (current != null) {
      out.putAll(current);
    }
    out.putAll(added);
    return out;
  }

  static PodTemplateSpec podTemplate(HasMetadata object) {
    if (object instanceof Job job && job.getSpec() != null) {
      return job.getSpec().getTemplate();
    }
    if (object instanceof Deployment deployment && deployment.getSpec() != null) {
      return deployment.getSpec().getTemplate();
    }
    if (object instanceof StatefulSet set && set.getSpec() != null) {
      return set.getSpec().getTemplate();
    }
    return null;
  }
}
