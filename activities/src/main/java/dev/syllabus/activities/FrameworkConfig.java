package dev.syllabus.activities;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.recipe.Phase;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The framework's config file for a phase, shipped in the phase's config ConfigMap: the recipe's
 * {@code config} with what Syllabus knows written under the keys the framework's {@code
 * framework.yaml} names, so that the trainer finds them where it reads the rest of its config.
 */
final class FrameworkConfig {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

  private FrameworkConfig() {}

  /**
   * The phase's {@code config}, with what Syllabus knows (optimizer, data, input model and
   * optimizer state, output folder, step count, Service names) under the framework's own keys, as
   * JSON or YAML text.
   *
   * @param objects the rendered objects: paths are those their train container sees
   * @param services the new name of each Service of this workload, by its name in the manifests
   * @param frameworkServices the Services of every workload of the framework
   */
  static String write(
      PhaseTask task,
      FrameworkSettings settings,
      List<HasMetadata> objects,
      Map<String, String> services,
      Set<String> frameworkServices) {
    Phase phase = task.phase();
    Map<String, Object> config = deepCopy(phase.config());
    Map<String, String> env = ContractEnv.of(task, trainContainer(objects), settings);
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
      String value = ServiceKeys.value(phase, key.getValue(), services, frameworkServices);
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
      PodTemplateSpec pod = PodInjection.podTemplate(object);
      if (pod == null || pod.getSpec() == null || pod.getSpec().getContainers() == null) {
        continue;
      }
      List<Container> containers = pod.getSpec().getContainers();
      if (containers.isEmpty()) {
        continue;
      }
      if (Renderer.TRAIN_ROLE.equals(Kubeconfigs.roleOf(object))) {
        return containers.get(0);
      }
      if (first == null && object instanceof Job) {
        first = containers.get(0);
      }
    }
    return first;
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

  /** A copy whose nested maps are copies too: the recipe's config must not change. */
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
}
