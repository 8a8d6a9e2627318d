package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.recipe.WorkloadResources;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rendering a workload with servers: Services found by name (environment and config), selectors
 * narrowed to the attempt, per-role resources, files shipped in ConfigMaps, Kueue queues.
 */
class RendererServersTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @TempDir Path repo;
  private Renderer renderer;

  @BeforeEach
  void framework() throws Exception {
    Path fw = repo.resolve("kubeconfigs/fw");
    Files.createDirectories(fw.resolve("grpo"));
    Files.writeString(
        fw.resolve("framework.yaml"),
        """
        config: {file: config.yaml, format: yaml}
        keys:
          optimizer.lr: learning_rate
          model.input: base_model
          optimizer.input: resume_from
          output.dir: output_dir
          steps.count: trainer.max_steps
        service_keys:
          trl.vllm_server_host: vllm
          rewards.url: "http://{rewards-server}:8000/score"
        """);
    Files.writeString(
        fw.resolve("grpo/vllm-deployment.yaml"),
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: vllm, labels: {syllabus.dev/role: vllm}}
        spec:
          replicas: 1
          selector: {matchLabels: {app: vllm}}
          template:
            metadata: {labels: {app: vllm, syllabus.dev/role: vllm}}
            spec:
              containers:
                - name: vllm
                  image: vllm/vllm-openai:v0.8.5
                  args: ["--port", "8000"]
        """);
    Files.writeString(
        fw.resolve("grpo/vllm-service.yaml"),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: vllm}
        spec:
          selector: {app: vllm}
          ports: [{name: http, port: 8000}]
        """);
    Files.writeString(
        fw.resolve("grpo/rewards-service.yaml"),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: rewards-server}
        spec:
          selector: {app: rewards}
          ports: [{name: http, port: 8000}]
        """);
    Files.writeString(
        fw.resolve("grpo/scripts-configmap.yaml"),
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: scripts
          annotations: {syllabus.dev/files: "reward.py=examples/fw/reward_fn.py, examples/fw/util.py"}
        data: {keep.txt: kept}
        """);
    Files.writeString(
        fw.resolve("grpo/training-job.yaml"),
        """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: train, labels: {syllabus.dev/role: train}}
        spec:
          backoffLimit: 0
          template:
            metadata: {labels: {syllabus.dev/role: train}}
            spec:
              restartPolicy: Never
              containers:
                - name: trainer
                  image: example/trainer:1
                  env:
                    - {name: REWARDS_URL, value: "http://$(SYLLABUS_SERVICE_REWARDS_SERVER):8000"}
                  volumeMounts:
                    - {name: syllabus-artifacts, mountPath: /ckpt}
                    - {name: syllabus-config, mountPath: /etc/cfg}
                    - {name: scripts, mountPath: /opt/scripts}
              volumes:
                - {name: syllabus-artifacts, persistentVolumeClaim: {claimName: syllabus-artifacts}}
                - {name: syllabus-config, configMap: {name: syllabus-config}}
                - {name: scripts, configMap: {name: scripts}}
        """);
    Files.createDirectories(repo.resolve("examples/fw"));
    Files.writeString(repo.resolve("examples/fw/reward_fn.py"), "def reward(x):\n    return 1\n");
    Files.writeString(repo.resolve("examples/fw/util.py"), "X = 1\n");
    renderer = new Renderer(new Kubeconfigs(repo.resolve("kubeconfigs")));
  }

  private static Phase.Builder grpo() {
    return Phase.builder("grpo")
        .until(1.0)
        .framework("fw", "grpo")
        .image("example/trainer:2")
        .resources("train", new WorkloadResources(6, null, null))
        .resources("vllm", new WorkloadResources(2, "8", "64Gi"))
        .optimizer(new OptimizerSpec(null, 1e-6, OptimizerState.CARRY));
  }

  private static PhaseTask task(Phase phase) {
    return new PhaseTask(
        "run-7",
        "r",
        1,
        phase,
        new StepRange(900, 3000),
        3000,
        RendererTest.fromEasy(),
        null,
        1000,
        0,
        null);
  }

  private static <T> T object(RenderedPhase rendered, String kind, String name, Class<T> type) {
    for (Manifest m : rendered.manifests()) {
      if (m.kind().equals(kind) && m.name().equals(name)) {
        return type.cast(Kubeconfigs.SERIALIZATION.unmarshal(m.yaml()));
      }
    }
    throw new AssertionError("no " + kind + "/" + name + " in " + rendered.toYaml());
  }

  private static String env(Container container, String name) {
    for (EnvVar var : container.getEnv()) {
      if (var.getName().equals(name)) {
        return var.getValue();
      }
    }
    return null;
  }

  @Test
  void everyObjectIsNamedFromTheJobAndServersComeBeforeIt() {
    RenderedPhase rendered = renderer.render(task(grpo().build()), 3);
    assertEquals(
        List.of(
                "ConfigMap/run-7-1-grpo-3-syllabus-config",
                "Service/run-7-1-grpo-3-rewards-server",
                "ConfigMap/run-7-1-grpo-3-scripts",
                "Job/run-7-1-grpo-3",
                "Deployment/run-7-1-grpo-3-vllm",
                "Service/run-7-1-grpo-3-vllm")
            .stream()
            .sorted()
            .toList(),
        rendered.manifests().stream().map(m -> m.kind() + "/" + m.name()).sorted().toList());
    Manifest last = rendered.manifests().get(rendered.manifests().size() - 1);
    assertEquals("Job", last.kind());
    assertTrue(rendered.hasServers());
  }

  @Test
  void servicesAreFoundThroughTheEnvironmentAndTheConfig() throws Exception {
    RenderedPhase rendered = renderer.render(task(grpo().build()), 3);
    Job job = object(rendered, "Job", "run-7-1-grpo-3", Job.class);
    Container trainer = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertEquals("run-7-1-grpo-3-vllm", env(trainer, "SYLLABUS_SERVICE_VLLM"));
    assertEquals("run-7-1-grpo-3-rewards-server", env(trainer, "SYLLABUS_SERVICE_REWARDS_SERVER"));
    List<String> order = trainer.getEnv().stream().map(EnvVar::getName).toList();
    assertTrue(
        order.indexOf("SYLLABUS_SERVICE_REWARDS_SERVER") < order.indexOf("REWARDS_URL"),
        "a variable must be defined before $(it) is used: " + order);
    Deployment vllm = object(rendered, "Deployment", "run-7-1-grpo-3-vllm", Deployment.class);
    assertEquals(
        "run-7-1-grpo-3-vllm",
        env(
            vllm.getSpec().getTemplate().getSpec().getContainers().get(0),
            "SYLLABUS_SERVICE_VLLM"));

    ConfigMap config =
        object(rendered, "ConfigMap", "run-7-1-grpo-3-syllabus-config", ConfigMap.class);
    JsonNode cfg = YAML.readTree(config.getData().get("config.yaml"));
    assertEquals("run-7-1-grpo-3-vllm", cfg.at("/trl/vllm_server_host").asText());
    assertEquals(
        "http://run-7-1-grpo-3-rewards-server:8000/score", cfg.at("/rewards/url").asText());
    assertEquals("/ckpt/run-7/0-easy/checkpoint-900", cfg.get("base_model").asText());
    assertEquals("/ckpt/run-7/0-easy/checkpoint-900", cfg.get("resume_from").asText());
    assertEquals("/ckpt/run-7/1-grpo", cfg.get("output_dir").asText());
    assertEquals(2100, cfg.at("/trainer/max_steps").asLong());
    assertEquals(1e-6, cfg.get("learning_rate").asDouble());
  }

  @Test
  void aResetOptimizerLeavesItsConfigKeyUnset() throws Exception {
    Phase reset = grpo().optimizer(new OptimizerSpec(null, 1e-6, OptimizerState.RESET)).build();
    RenderedPhase rendered = renderer.render(task(reset), 1);
    ConfigMap config =
        object(rendered, "ConfigMap", "run-7-1-grpo-1-syllabus-config", ConfigMap.class);
    JsonNode cfg = YAML.readTree(config.getData().get("config.yaml"));
    assertTrue(cfg.path("resume_from").isMissingNode(), cfg.toString());
  }

  @Test
  void selectorsPickOnlyThisAttemptsPodsAndStillMatchTheirTemplates() {
    RenderedPhase rendered = renderer.render(task(grpo().build()), 3);
    Deployment vllm = object(rendered, "Deployment", "run-7-1-grpo-3-vllm", Deployment.class);
    Map<String, String> selector = vllm.getSpec().getSelector().getMatchLabels();
    assertEquals(
        Map.of(
            "app", "vllm",
            "syllabus.dev/run", "run-7",
            "syllabus.dev/phase-index", "1",
            "syllabus.dev/attempt", "3"),
        selector);
    Map<String, String> podLabels = vllm.getSpec().getTemplate().getMetadata().getLabels();
    selector.forEach((k, v) -> assertEquals(v, podLabels.get(k), k));
    Service service = object(rendered, "Service", "run-7-1-grpo-3-vllm", Service.class);
    assertEquals(selector, service.getSpec().getSelector());
  }

  @Test
  void eachRoleGetsItsOwnResourcesAndOnlyTheTrainerTheRecipesImage() {
    RenderedPhase rendered = renderer.render(task(grpo().build()), 3);
    Container trainer =
        object(rendered, "Job", "run-7-1-grpo-3", Job.class)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    Container vllm =
        object(rendered, "Deployment", "run-7-1-grpo-3-vllm", Deployment.class)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    assertEquals("6", trainer.getResources().getRequests().get("nvidia.com/gpu").toString());
    assertEquals("6", trainer.getResources().getLimits().get("nvidia.com/gpu").toString());
    assertEquals("2", vllm.getResources().getRequests().get("nvidia.com/gpu").toString());
    assertEquals("2", vllm.getResources().getLimits().get("nvidia.com/gpu").toString());
    assertEquals("64Gi", vllm.getResources().getLimits().get("memory").toString());
    assertEquals("example/trainer:2", trainer.getImage());
    assertEquals("vllm/vllm-openai:v0.8.5", vllm.getImage());
  }

  @Test
  void aConfigMapShipsTheRepositoryFilesItNames() {
    RenderedPhase rendered = renderer.render(task(grpo().build()), 3);
    ConfigMap scripts = object(rendered, "ConfigMap", "run-7-1-grpo-3-scripts", ConfigMap.class);
    assertEquals(
        Map.of(
            "keep.txt", "kept",
            "reward.py", "def reward(x):\n    return 1\n",
            "util.py", "X = 1\n"),
        scripts.getData());
    Job job = object(rendered, "Job", "run-7-1-grpo-3", Job.class);
    assertEquals(
        "run-7-1-grpo-3-scripts",
        job.getSpec().getTemplate().getSpec().getVolumes().get(2).getConfigMap().getName());
  }

  @Test
  void aMissingShippedFileIsNamed() throws Exception {
    Files.delete(repo.resolve("examples/fw/util.py"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> renderer.render(task(grpo().build()), 1));
    assertEquals(
        "fw/grpo: ConfigMap scripts: syllabus.dev/files: cannot read examples/fw/util.py"
            + " (NoSuchFileException)",
        e.getMessage());
  }

  @Test
  void aQueuedJobIsCreatedSuspendedForKueueAndEveryJobIsKeptADay() {
    Job queued =
        object(
            renderer.render(task(grpo().queue("gpu-team").build()), 1),
            "Job",
            "run-7-1-grpo-1",
            Job.class);
    assertEquals("gpu-team", queued.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));
    assertEquals(Boolean.TRUE, queued.getSpec().getSuspend());
    assertEquals(86400, queued.getSpec().getTtlSecondsAfterFinished());

    Job plain =
        object(renderer.render(task(grpo().build()), 1), "Job", "run-7-1-grpo-1", Job.class);
    assertNull(plain.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));
    assertNull(plain.getSpec().getSuspend());
  }

  @Test
  void aQueuedJobCarriesItsPriorityClassForKueue() {
    Job job =
        object(
            renderer.render(task(grpo().queue("gpu-team").priority("low").build()), 1),
            "Job",
            "run-7-1-grpo-1",
            Job.class);
    assertEquals("low", job.getMetadata().getLabels().get("kueue.x-k8s.io/priority-class"));
    assertEquals("gpu-team", job.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));

    Job plain =
        object(
            renderer.render(task(grpo().queue("gpu-team").build()), 1),
            "Job",
            "run-7-1-grpo-1",
            Job.class);
    assertNull(plain.getMetadata().getLabels().get("kueue.x-k8s.io/priority-class"));
  }

  @Test
  void aServiceKeyForAServerOfAnotherWorkloadIsLeftOut() throws Exception {
    Path sft = repo.resolve("kubeconfigs/fw/sft");
    Files.createDirectories(sft);
    Files.copy(
        repo.resolve("kubeconfigs/fw/grpo/training-job.yaml"), sft.resolve("training-job.yaml"));
    Files.copy(
        repo.resolve("kubeconfigs/fw/grpo/scripts-configmap.yaml"),
        sft.resolve("scripts-configmap.yaml"));
    Phase phase = grpo().framework("fw", "sft").build();
    ConfigMap config =
        object(
            renderer.render(task(phase), 1),
            "ConfigMap",
            "run-7-1-grpo-1-syllabus-config",
            ConfigMap.class);
    JsonNode cfg = YAML.readTree(config.getData().get("config.yaml"));
    assertTrue(cfg.path("trl").isMissingNode(), cfg.toString());
    assertTrue(cfg.path("rewards").isMissingNode(), cfg.toString());
    assertEquals("/ckpt/run-7/1-grpo", cfg.get("output_dir").asText());
  }

  @Test
  void aServiceKeyNamingNoServiceIsAnError() throws Exception {
    Path settings = repo.resolve("kubeconfigs/fw/framework.yaml");
    Files.writeString(
        settings, Files.readString(settings).replace("{rewards-server}", "{rewards}"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> renderer.render(task(grpo().build()), 1));
    assertEquals(
        "fw/framework.yaml: service_keys: no Service named 'rewards' in any workload of fw"
            + " (Services: rewards-server, vllm)",
        e.getMessage());
  }

  @Test
  void aFrameworkNamesItsOwnRendezvousPort() throws Exception {
    Path settings = repo.resolve("kubeconfigs/fw/framework.yaml");
    Files.writeString(settings, Files.readString(settings) + "rendezvous: {port: 23456}\n");
    Phase phase = grpo().resources("train", new WorkloadResources(6, null, null, 2)).build();
    Job job = object(renderer.render(task(phase), 1), "Job", "run-7-1-grpo-1", Job.class);
    List<EnvVar> env = job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    for (String name : List.of("SYLLABUS_MASTER_PORT", "PET_MASTER_PORT", "MASTER_PORT")) {
      assertEquals(
          "23456",
          env.stream().filter(v -> v.getName().equals(name)).findFirst().orElseThrow().getValue(),
          name);
    }
  }
}
