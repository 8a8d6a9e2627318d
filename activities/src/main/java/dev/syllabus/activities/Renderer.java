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
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

  /** A ConfigMap annotation listing repository files to ship as its data: {@code key=path,…}. */
  public static final String FILES_ANNOTATION = "syllabus.dev/files";

  /**
   * On the phase's config ConfigMap (created first, deleted last): every other object of the phase
   * as {@code Kind/name,…}, so that teardown finds them all without listing the cluster.
   */
  public static final String OBJECTS_ANNOTATION = "syllabus.dev/objects";

  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String RUN_LABEL = "syllabus.dev/run";
  public static final String PHASE_LABEL = "syllabus.dev/phase";
  public static final String PHASE_INDEX_LABEL = "syllabus.dev/phase-index";
  public static final String ATTEMPT_LABEL = "syllabus.dev/attempt";
  public static final String KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";

  /** How long a finished Job is kept, so that its logs can be read: a day. */
  public static final int FINISHED_JOB_TTL_SECONDS = 86_400;

  private static final long MAX_CONFIG_MAP_BYTES = 1 << 20;

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
    String configMapName = configMapName(job);

    Map<String, String> renamed = new HashMap<>();
    Map<String, String> services = new LinkedHashMap<>();
    for (HasMetadata object : objects) {
      String original = object.getMetadata().getName();
      String name =
          object instanceof Job ? job.name() : Names.dnsLabel(job.name() + "-" + original);
      if (renamed.put(object.getKind() + "/" + original, name) != null) {
        throw new IllegalArgumentException(
            phase.frameworkWorkload()
                + " has two objects named "
                + object.getKind()
                + "/"
                + original);
      }
      if (object instanceof Service) {
        services.put(original, name);
      }
    }
    Map<String, String> labels = labels(task, attempt);
    Map<String, String> selected = selectorLabels(labels);
    Map<String, String> serviceEnv = new LinkedHashMap<>();
    services.forEach((original, name) -> serviceEnv.put(serviceEnvName(original), name));

    List<Manifest> jobs = new ArrayList<>();
    List<Manifest> others = new ArrayList<>();
    for (HasMetadata object : objects) {
      String role = Kubeconfigs.roleOf(object);
      String original = object.getMetadata().getName();
      object.getMetadata().setName(renamed.get(object.getKind() + "/" + original));
      object.getMetadata().setLabels(merged(object.getMetadata().getLabels(), labels));
      PodTemplateSpec pod = podTemplate(object);
      if (pod != null) {
        injectPod(pod, task, role, settings, configMapName, labels, renamed, serviceEnv);
      }
      addSelectors(object, selected);
      if (object instanceof Job j) {
        injectJob(j, phase);
      }
      if (object instanceof ConfigMap cm) {
        shipFiles(cm, original, phase);
      }
      Manifest manifest =
          new Manifest(
              object.getKind(), object.getMetadata().getName(), role, Kubeconfigs.toYaml(object));
      (object instanceof Job ? jobs : others).add(manifest);
    }

    List<String> made = new ArrayList<>();
    for (HasMetadata object : objects) {
      made.add(object.getKind() + "/" + object.getMetadata().getName());
    }
    ConfigMap config =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(configMapName)
            .withLabels(labels)
            .addToAnnotations(OBJECTS_ANNOTATION, String.join(",", made))
            .endMetadata()
            .addToData(
                settings.configFile(),
                frameworkConfig(
                    task,
                    settings,
                    trainContainer(objects),
                    services,
                    kubeconfigs.serviceNames(phase.framework())))
            .build();
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

  /** The labels every object of the phase carries, so it can be found and cleaned up. */
  static Map<String, String> labels(PhaseTask task, int attempt) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY, "syllabus");
    labels.put(RUN_LABEL, task.runId());
    labels.put(PHASE_LABEL, task.phase().name());
    labels.put(PHASE_INDEX_LABEL, Integer.toString(task.index()));
    labels.put(ATTEMPT_LABEL, Integer.toString(attempt));
    return labels;
  }

  /** The labels that single out one attempt of one phase: added to the manifests' selectors. */
  private static Map<String, String> selectorLabels(Map<String, String> labels) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : List.of(RUN_LABEL, PHASE_INDEX_LABEL, ATTEMPT_LABEL)) {
      out.put(key, labels.get(key));
    }
    return out;
  }

  /** {@code SYLLABUS_SERVICE_VLLM} for a Service named {@code vllm} in the manifests. */
  public static String serviceEnvName(String originalServiceName) {
    return "SYLLABUS_SERVICE_" + originalServiceName.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** Deployments, StatefulSets and Services select only this attempt's pods. */
  private static void addSelectors(HasMetadata object, Map<String, String> selected) {
    if (object instanceof Deployment d
        && d.getSpec() != null
        && d.getSpec().getSelector() != null) {
      LabelSelector selector = d.getSpec().getSelector();
      selector.setMatchLabels(merged(selector.getMatchLabels(), selected));
    } else if (object instanceof StatefulSet set
        && set.getSpec() != null
        && set.getSpec().getSelector() != null) {
      LabelSelector selector = set.getSpec().getSelector();
      selector.setMatchLabels(merged(selector.getMatchLabels(), selected));
    } else if (object instanceof Service service
        && service.getSpec() != null
        && service.getSpec().getSelector() != null
        && !service.getSpec().getSelector().isEmpty()) {
      service.getSpec().setSelector(merged(service.getSpec().getSelector(), selected));
    }
  }

  /**
   * A Job in a Kueue queue is created suspended (Kueue starts it once admitted); every Job is kept
   * for a day after it finished, so its logs can be read.
   */
  private static void injectJob(Job job, Phase phase) {
    if (job.getSpec() == null) {
      return;
    }
    if (phase.queue() != null) {
      job.getMetadata().getLabels().put(KUEUE_QUEUE_LABEL, phase.queue());
      job.getSpec().setSuspend(true);
    }
    if (job.getSpec().getTtlSecondsAfterFinished() == null) {
      job.getSpec().setTtlSecondsAfterFinished(FINISHED_JOB_TTL_SECONDS);
    }
  }

  /** Fills a ConfigMap that ships repository files ({@value #FILES_ANNOTATION}). */
  private void shipFiles(ConfigMap configMap, String original, Phase phase) {
    Map<String, String> annotations = configMap.getMetadata().getAnnotations();
    String files = annotations == null ? null : annotations.get(FILES_ANNOTATION);
    if (files == null || files.isBlank()) {
      return;
    }
    Map<String, String> data =
        configMap.getData() == null
            ? new LinkedHashMap<>()
            : new LinkedHashMap<>(configMap.getData());
    long size = 0;
    for (String entry : files.split(",")) {
      String spec = entry.strip();
      if (spec.isEmpty()) {
        continue;
      }
      int eq = spec.indexOf('=');
      String path = eq < 0 ? spec : spec.substring(eq + 1).strip();
      Path file = kubeconfigs.repoFile(path);
      String key = eq < 0 ? file.getFileName().toString() : spec.substring(0, eq).strip();
      try {
        String text = Files.readString(file);
        size += text.length();
        data.put(key, text);
      } catch (IOException e) {
        throw new IllegalArgumentException(
            phase.frameworkWorkload()
                + ": ConfigMap "
                + original
                + ": "
                + FILES_ANNOTATION
                + ": cannot read "
                + path
                + " ("
                + e.getClass().getSimpleName()
                + ")");
      }
    }
    if (size > MAX_CONFIG_MAP_BYTES) {
      throw new IllegalArgumentException(
          phase.frameworkWorkload()
              + ": ConfigMap "
              + original
              + " would hold "
              + size
              + " bytes; a ConfigMap holds at most 1 MiB");
    }
    configMap.setData(data);
  }

  private void injectPod(
      PodTemplateSpec pod,
      PhaseTask task,
      String role,
      FrameworkSettings settings,
      String configMapName,
      Map<String, String> labels,
      Map<String, String> renamed,
      Map<String, String> serviceEnv) {
    if (pod.getMetadata() == null) {
      pod.setMetadata(new ObjectMeta());
    }
    pod.getMetadata().setLabels(merged(pod.getMetadata().getLabels(), labels));
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
    Map<String, String> env = new LinkedHashMap<>(contractEnv(task, main, settings));
    env.putAll(serviceEnv);
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
    if (container == null || container.getVolumeMounts() == null) {
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
   * The phase's {@code config}, with what Syllabus knows (optimizer, data, input model and
   * optimizer state, output folder, step count, Service names) under the framework's own keys.
   */
  static String frameworkConfig(
      PhaseTask task,
      FrameworkSettings settings,
      Container trainer,
      Map<String, String> services,
      Set<String> frameworkServices) {
    Phase phase = task.phase();
    Map<String, Object> config = deepCopy(phase.config());
    Map<String, String> env = contractEnv(task, trainer, settings);
    for (Map.Entry<String, String> key : settings.keys().entrySet()) {
      Object value =
          switch (key.getKey()) {
            case "optimizer.name" -> phase.optimizer().name();
            case "optimizer.lr" -> phase.optimizer().lr();
            case "data.datasets" -> task.data() == null ? null : task.data().datasets();
            case "model.input" -> emptyToNull(env.get("SYLLABUS_INPUT_MODEL"));
            case "optimizer.input" -> emptyToNull(env.get("SYLLABUS_INPUT_OPTIMIZER"));
            case "output.dir" -> env.get("SYLLABUS_OUTPUT_DIR");
            case "steps.count" -> task.steps().length();
            default ->
                throw new IllegalArgumentException(
                    phase.framework()
                        + "/framework.yaml: keys: unknown key '"
                        + key.getKey()
                        + "' (known: optimizer.name, optimizer.lr, data.datasets, model.input,"
                        + " optimizer.input, output.dir, steps.count)");
          };
      if (value != null) {
        put(config, key.getValue(), value);
      }
    }
    for (Map.Entry<String, String> key : settings.serviceKeys().entrySet()) {
      String value = serviceValue(phase, key.getValue(), services, frameworkServices);
      if (value != null) {
        put(config, key.getKey(), value);
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

  /** The first container of the {@code train} role (or of the first Job): where paths are seen. */
  private static Container trainContainer(List<HasMetadata> objects) {
    Container first = null;
    for (HasMetadata object : objects) {
      PodTemplateSpec pod = podTemplate(object);
      if (pod == null || pod.getSpec() == null || pod.getSpec().getContainers() == null) {
        continue;
      }
      List<Container> containers = pod.getSpec().getContainers();
      if (containers.isEmpty()) {
        continue;
      }
      if (TRAIN_ROLE.equals(Kubeconfigs.roleOf(object))) {
        return containers.get(0);
      }
      if (first == null && object instanceof Job) {
        first = containers.get(0);
      }
    }
    return first;
  }

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z0-9]([-a-z0-9]*[a-z0-9])?)}");

  /**
   * A {@code service_keys} value: a Service's name, or a text with {@code {service}} in it; null
   * when it names a Service of another workload of the framework (the key is left out here).
   */
  private static String serviceValue(
      Phase phase, String value, Map<String, String> services, Set<String> frameworkServices) {
    Matcher m = PLACEHOLDER.matcher(value);
    List<String> named = new ArrayList<>();
    if (!value.contains("{")) {
      named.add(value);
    } else {
      while (m.find()) {
        named.add(m.group(1));
      }
      m.reset();
    }
    for (String original : named) {
      if (!services.containsKey(original) && frameworkServices.contains(original)) {
        return null;
      }
    }
    if (!value.contains("{")) {
      return service(phase, value, services);
    }
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(service(phase, m.group(1), services)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String service(Phase phase, String original, Map<String, String> services) {
    String name = services.get(original);
    if (name == null) {
      throw new IllegalArgumentException(
          phase.framework()
              + "/framework.yaml: service_keys: no Service named '"
              + original
              + "' in any workload of "
              + phase.framework()
              + (services.isEmpty()
                  ? ""
                  : " (Services: " + String.join(", ", services.keySet()) + ")"));
    }
    return name;
  }

  /** Sets a dotted key ({@code trl.vllm_server_host}) in nested maps, creating them as needed. */
  @SuppressWarnings("unchecked")
  private static void put(Map<String, Object> config, String dotted, Object value) {
    String[] parts = dotted.split("\\.");
    Map<String, Object> at = config;
    for (int i = 0; i < parts.length - 1; i++) {
      Object next = at.get(parts[i]);
      if (!(next instanceof Map)) {
        next = new LinkedHashMap<String, Object>();
        at.put(parts[i], next);
      }
      at = (Map<String, Object>) next;
    }
    at.put(parts[parts.length - 1], value);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> deepCopy(Map<String, Object> map) {
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach(
        (k, v) -> out.put(k, v instanceof Map<?, ?> m ? deepCopy((Map<String, Object>) m) : v));
    return out;
  }

  private static String emptyToNull(String text) {
    return text == null || text.isEmpty() ? null : text;
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

  /**
   * The injected variables first, so that the manifest's own can use them as {@code $(NAME)}; a
   * manifest's variable of the same name gives way.
   */
  private static List<EnvVar> withEnv(List<EnvVar> current, Map<String, String> injected) {
    List<EnvVar> out = new ArrayList<>();
    injected.forEach((k, v) -> out.add(new EnvVar(k, v, null)));
    if (current != null) {
      for (EnvVar var : current) {
        if (!injected.containsKey(var.getName())) {
          out.add(var);
        }
      }
    }
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
