package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.ArtifactRef.Kind;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.recipe.WorkloadResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rendering the tiny framework's Job: exactly the documented injections, nothing else. */
class RendererTest {

  static final Path KUBECONFIGS = Path.of("..", "kubeconfigs");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final Renderer renderer = new Renderer(new Kubeconfigs(KUBECONFIGS));

  static PhaseTask task(Phase phase, Triplet input) {
    return new PhaseTask(
        "run-7",
        "demo",
        1,
        phase,
        new StepRange(900, 1950),
        3000,
        input,
        DataSpec.of("synthetic:waves-medium"),
        1000,
        0,
        null);
  }

  static Phase medium() {
    return Phase.builder("medium")
        .until(0.65)
        .framework("tiny", "train")
        .image("registry.example/trainer:7")
        .resources("train", new WorkloadResources(2, "4", "16Gi"))
        .optimizer(new OptimizerSpec("adam", 0.01, OptimizerState.CARRY))
        .config("hidden", 32)
        .config("nested", Map.of("a", java.util.List.of(1, 2)))
        .build();
  }

  static Triplet fromEasy() {
    String path = "run-7/0-easy/checkpoint-900";
    return new Triplet(
        new ArtifactRef(Kind.MODEL, "file:///store/" + path, path, "easy", 900, "sha256:aa"),
        new ArtifactRef(Kind.OPTIMIZER, "file:///store/" + path, path, "easy", 900, "sha256:aa"),
        null);
  }

  private JsonNode rendered(RenderedPhase phase, String kind) throws Exception {
    for (Manifest m : phase.manifests()) {
      if (m.kind().equals(kind)) {
        return YAML.readTree(m.yaml());
      }
    }
    throw new AssertionError("no " + kind + " rendered");
  }

  @Test
  void theJobDiffersFromTheFrameworksManifestOnlyByTheInjections() throws Exception {
    RenderedPhase phase = renderer.render(task(medium(), fromEasy()), 2);
    JsonNode actual = rendered(phase, "Job");

    ObjectNode expected =
        (ObjectNode)
            YAML.readTree(Files.readString(KUBECONFIGS.resolve("tiny/train/training-job.yaml")));
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/managed-by", "syllabus");
    labels.put("syllabus.dev/run", "run-7");
    labels.put("syllabus.dev/phase", "medium");
    labels.put("syllabus.dev/phase-index", "1");
    labels.put("syllabus.dev/attempt", "2");
    ObjectNode metadata = (ObjectNode) expected.get("metadata");
    metadata.put("name", "run-7-1-medium-2");
    labels.forEach(((ObjectNode) metadata.get("labels"))::put);
    ((ObjectNode) expected.get("spec")).put("ttlSecondsAfterFinished", 86400);
    ObjectNode template = (ObjectNode) expected.at("/spec/template");
    labels.forEach(((ObjectNode) template.at("/metadata/labels"))::put);
    ObjectNode trainer = (ObjectNode) template.at("/spec/containers/0");
    trainer.put("image", "registry.example/trainer:7");
    ObjectNode resources = (ObjectNode) trainer.get("resources");
    ((ObjectNode) resources.get("requests"))
        .put("cpu", "4")
        .put("memory", "16Gi")
        .put("nvidia.com/gpu", "2");
    resources.putObject("limits").put("nvidia.com/gpu", "2").put("memory", "16Gi");
    ArrayNode manifestEnv = (ArrayNode) trainer.get("env");
    ArrayNode env = trainer.putArray("env");
    Map<String, String> contract = new LinkedHashMap<>();
    contract.put("SYLLABUS_RUN_ID", "run-7");
    contract.put("SYLLABUS_PHASE", "medium");
    contract.put("SYLLABUS_PHASE_INDEX", "1");
    contract.put("SYLLABUS_STEP_START", "900");
    contract.put("SYLLABUS_STEP_END", "1950");
    contract.put("SYLLABUS_TOTAL_STEPS", "3000");
    contract.put("SYLLABUS_INPUT_MODEL", "/mnt/syllabus/run-7/0-easy/checkpoint-900");
    contract.put("SYLLABUS_INPUT_OPTIMIZER", "/mnt/syllabus/run-7/0-easy/checkpoint-900");
    contract.put("SYLLABUS_OUTPUT_DIR", "/mnt/syllabus/run-7/1-medium");
    contract.put("SYLLABUS_CONFIG", "/etc/syllabus/config.json");
    contract.forEach((k, v) -> env.addObject().put("name", k).put("value", v));
    env.addAll(manifestEnv); // after the injected ones, so that it can refer to them
    for (JsonNode volume : template.at("/spec/volumes")) {
      if (volume.get("name").asText().equals("syllabus-config")) {
        ((ObjectNode) volume.get("configMap")).put("name", "run-7-1-medium-2-syllabus-config");
      }
      if (volume.get("name").asText().equals("trainer")) { // follows the renamed tiny-trainer
        ((ObjectNode) volume.get("configMap")).put("name", "run-7-1-medium-2-tiny-trainer");
      }
    }

    assertEquals(normalized(expected), normalized(actual));
  }

  @Test
  void theConfigMapHoldsThePhaseConfigWithTheRecipesOptimizerAndData() throws Exception {
    JsonNode configMap = rendered(renderer.render(task(medium(), fromEasy()), 1), "ConfigMap");
    assertEquals("run-7-1-medium-1-syllabus-config", configMap.at("/metadata/name").asText());
    JsonNode config = new ObjectMapper().readTree(configMap.at("/data/config.json").asText());
    assertEquals(32, config.get("hidden").asInt());
    assertEquals(2, config.at("/nested/a/1").asInt());
    assertEquals(0.01, config.get("learning_rate").asDouble());
    assertEquals("adam", config.get("optimizer").asText());
    assertEquals("synthetic:waves-medium", config.at("/datasets/0/path").asText());
  }

  @Test
  void aResetPhaseGetsNoInputOptimizer() throws Exception {
    Phase reset = Phase.builder("medium").until(0.65).framework("tiny", "train").build();
    JsonNode job = rendered(renderer.render(task(reset, fromEasy()), 1), "Job");
    Map<String, String> env = env(job);
    assertEquals("/mnt/syllabus/run-7/0-easy/checkpoint-900", env.get("SYLLABUS_INPUT_MODEL"));
    assertEquals("", env.get("SYLLABUS_INPUT_OPTIMIZER"));
  }

  @Test
  void anExternalBaseModelIsPassedAsGiven() throws Exception {
    Triplet base = new Triplet(ArtifactRef.external(Kind.MODEL, "Qwen/Qwen2.5-0.5B"), null, null);
    JsonNode job = rendered(renderer.render(task(medium(), base), 1), "Job");
    assertEquals("Qwen/Qwen2.5-0.5B", env(job).get("SYLLABUS_INPUT_MODEL"));
  }

  @Test
  void pullLatestIsInjectedOnlyWhenAsked() throws Exception {
    Phase pulling =
        Phase.builder("medium").until(0.65).framework("tiny", "train").pullLatest(true).build();
    assertEquals(
        "1",
        env(rendered(renderer.render(task(pulling, fromEasy()), 1), "Job")).get("PULL_LATEST"));
    assertFalse(
        env(rendered(renderer.render(task(medium(), fromEasy()), 1), "Job"))
            .containsKey("PULL_LATEST"));
  }

  @Test
  void longRunAndPhaseNamesStayValidKubernetesNames() {
    Phase phase =
        Phase.builder("a-rather-long-phase-name-of-forty-chars")
            .until(1.0)
            .framework("tiny", "train")
            .build();
    PhaseTask task =
        new PhaseTask(
            "a-run-id-that-is-exactly-forty-chars-xyz",
            "demo",
            12,
            phase,
            new StepRange(0, 10),
            10,
            Triplet.EMPTY,
            null,
            1000,
            0,
            null);
    for (Manifest m : renderer.render(task, 3).manifests()) {
      assertTrue(m.name().length() <= 63, m.name());
      assertTrue(m.name().matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"), m.name());
    }
  }

  private static Map<String, String> env(JsonNode job) {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode var : job.at("/spec/template/spec/containers/0/env")) {
      out.put(var.get("name").asText(), var.path("value").asText());
    }
    return out;
  }

  /** Quantities and numbers compare as text: {@code cpu: "1"} and {@code cpu: 1} are the same. */
  private static JsonNode normalized(JsonNode node) {
    if (node.isObject()) {
      ObjectNode out = YAML.createObjectNode();
      node.fields().forEachRemaining(e -> out.set(e.getKey(), normalized(e.getValue())));
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = YAML.createArrayNode();
      node.forEach(n -> out.add(normalized(n)));
      return out;
    }
    if (node.isNumber()) {
      return YAML.getNodeFactory().textNode(node.asText());
    }
    return node;
  }
}
