package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A trainer on several nodes ({@code resources.train.nodes}): an Indexed Job with a pod per node, a
 * headless Service naming its pods, and the rendezvous in every container of the trainer.
 */
class RendererMultiNodeTest {

  private final Renderer renderer = new Renderer(new Kubeconfigs(RendererTest.KUBECONFIGS));

  private static Phase.Builder phase(String framework, String workload, int nodes) {
    return Phase.builder(workload)
        .until(1.0)
        .framework(framework, workload)
        .resources("train", new WorkloadResources(8, null, null, nodes))
        .optimizer(new OptimizerSpec(null, 1.0e-5, OptimizerState.RESET));
  }

  private static PhaseTask task(Phase phase) {
    return task("run-7", phase);
  }

  private static PhaseTask task(String runId, Phase phase) {
    return new PhaseTask(
        runId,
        "demo",
        1,
        phase,
        new StepRange(0, 1000),
        1000,
        new Triplet(null, null, null),
        DataSpec.of("org/data"),
        1000,
        0,
        null);
  }

  private static <T> T object(RenderedPhase rendered, String kind, Class<T> type) {
    return type.cast(Kubeconfigs.SERIALIZATION.unmarshal(manifest(rendered, kind).yaml()));
  }

  private static Manifest manifest(RenderedPhase rendered, String kind) {
    return rendered.manifests().stream()
        .filter(m -> m.kind().equals(kind))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " in " + rendered.manifests()));
  }

  private static Map<String, EnvVar> env(Container container) {
    Map<String, EnvVar> env = new LinkedHashMap<>();
    container.getEnv().forEach(var -> env.put(var.getName(), var));
    return env;
  }

  private static String value(Container container, String name) {
    EnvVar var = env(container).get(name);
    return var == null ? null : var.getValue();
  }

  @Test
  void twoNodesMakeAnIndexedJobWithAPodPerNode() {
    Job job =
        object(renderer.render(task(phase("axolotl", "sft", 2).build()), 1), "Job", Job.class);
    assertEquals("Indexed", job.getSpec().getCompletionMode());
    assertEquals(2, job.getSpec().getCompletions());
    assertEquals(2, job.getSpec().getParallelism());
    assertEquals(0, job.getSpec().getBackoffLimit());
    assertEquals("run-7-1-sft-1-nodes", job.getSpec().getTemplate().getSpec().getSubdomain());
    // An evicted pod is still started again rather than failing the Job.
    assertEquals("Ignore", job.getSpec().getPodFailurePolicy().getRules().get(0).getAction());
  }

  @Test
  void theHeadlessServiceSelectsExactlyThisAttemptsTrainerPods() {
    RenderedPhase rendered = renderer.render(task(phase("axolotl", "sft", 2).build()), 3);
    Service service = object(rendered, "Service", Service.class);
    assertEquals("run-7-1-sft-3-nodes", service.getMetadata().getName());
    assertEquals("None", service.getSpec().getClusterIP());
    assertEquals(Boolean.TRUE, service.getSpec().getPublishNotReadyAddresses());
    assertEquals(
        Map.of(
            "syllabus.dev/run", "run-7",
            "syllabus.dev/phase-index", "1",
            "syllabus.dev/attempt", "3",
            "syllabus.dev/role", "train"),
        service.getSpec().getSelector());
    Map<String, String> podLabels =
        object(rendered, "Job", Job.class).getSpec().getTemplate().getMetadata().getLabels();
    assertTrue(
        podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()),
        podLabels.toString());
    assertEquals("syllabus", service.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    assertEquals("3", service.getMetadata().getLabels().get("syllabus.dev/attempt"));
    assertEquals("train", manifest(rendered, "Service").role());
  }

  @Test
  void theHeadlessServiceIsAppliedBeforeTheJobAndTornDownWithThePhase() {
    RenderedPhase rendered = renderer.render(task(phase("axolotl", "sft", 2).build()), 1);
    List<String> kinds = rendered.manifests().stream().map(Manifest::kind).toList();
    assertTrue(kinds.indexOf("Service") < kinds.indexOf("Job"), kinds.toString());
    ConfigMap config = object(rendered, "ConfigMap", ConfigMap.class);
    assertTrue(
        config
            .getMetadata()
            .getAnnotations()
            .get(Renderer.OBJECTS_ANNOTATION)
            .contains("Service/run-7-1-sft-1-nodes"),
        config.getMetadata().getAnnotations().toString());
  }

  @Test
  void everyRankLearnsTheRendezvous() {
    Job job =
        object(renderer.render(task(phase("axolotl", "sft", 4).build()), 1), "Job", Job.class);
    Container trainer = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    String master = "run-7-1-sft-1-0.run-7-1-sft-1-nodes";
    assertEquals("4", value(trainer, "SYLLABUS_NUM_NODES"));
    assertEquals(
        "metadata.annotations['batch.kubernetes.io/job-completion-index']",
        env(trainer).get("SYLLABUS_NODE_RANK").getValueFrom().getFieldRef().getFieldPath());
    assertEquals("8", value(trainer, "SYLLABUS_NPROC_PER_NODE"));
    assertEquals(master, value(trainer, "SYLLABUS_MASTER_ADDR"));
    assertEquals("29500", value(trainer, "SYLLABUS_MASTER_PORT"));
    assertEquals("4", value(trainer, "PET_NNODES"));
    assertEquals("$(SYLLABUS_NODE_RANK)", value(trainer, "PET_NODE_RANK"));
    assertEquals("8", value(trainer, "PET_NPROC_PER_NODE"));
    assertEquals(master, value(trainer, "PET_MASTER_ADDR"));
    assertEquals("29500", value(trainer, "PET_MASTER_PORT"));
    assertEquals(master, value(trainer, "MASTER_ADDR"));
    assertEquals("29500", value(trainer, "MASTER_PORT"));
    assertNull(value(trainer, "WORLD_SIZE"), "per process: the launcher sets it");
    assertNull(value(trainer, "RANK"), "per process: the launcher sets it");
  }

  @Test
  void theRankIsDefinedBeforeWhatRefersToIt() {
    Job job =
        object(renderer.render(task(phase("axolotl", "sft", 2).build()), 1), "Job", Job.class);
    List<String> names =
        job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
            .map(EnvVar::getName)
            .toList();
    assertTrue(
        names.indexOf("SYLLABUS_NODE_RANK") < names.indexOf("PET_NODE_RANK"), names.toString());
    assertTrue(names.indexOf("SYLLABUS_NODE_RANK") < names.indexOf("HF_HOME"), names.toString());
  }

  @Test
  void aFourNodeGrpoTrainerSpansNodesAndItsServersDoNot() {
    RenderedPhase rendered =
        renderer.render(task(phase("verifiers", "grpo", 4).queue("gpu-team").build()), 1);
    Job job = object(rendered, "Job", Job.class);
    assertEquals("Indexed", job.getSpec().getCompletionMode());
    assertEquals(4, job.getSpec().getCompletions());
    assertEquals(4, job.getSpec().getParallelism());
    assertEquals("gpu-team", job.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));
    assertEquals(Boolean.TRUE, job.getSpec().getSuspend());
    Container trainer = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertEquals("run-7-1-grpo-1-0.run-7-1-grpo-1-nodes", value(trainer, "PET_MASTER_ADDR"));
    assertEquals("4", value(trainer, "SYLLABUS_NUM_NODES"));
    // The trainer still finds its servers.
    assertEquals("run-7-1-grpo-1-vllm", value(trainer, "SYLLABUS_SERVICE_VLLM"));

    for (Manifest m : rendered.manifests()) {
      if (m.kind().equals("Deployment")) {
        Deployment server = (Deployment) Kubeconfigs.SERIALIZATION.unmarshal(m.yaml());
        for (Container c : server.getSpec().getTemplate().getSpec().getContainers()) {
          assertNull(value(c, "SYLLABUS_NUM_NODES"), m.name());
        }
        assertNull(server.getSpec().getTemplate().getSpec().getSubdomain(), m.name());
      }
    }
    long services = rendered.manifests().stream().filter(m -> m.kind().equals("Service")).count();
    assertEquals(3, services, "vllm, rewards and the trainer's headless Service");
  }

  @Test
  void oneNodeRendersExactlyAsWithoutNodes() {
    RenderedPhase one = renderer.render(task(phase("axolotl", "sft", 1).build()), 1);
    RenderedPhase unset =
        renderer.render(
            task(
                Phase.builder("sft")
                    .until(1.0)
                    .framework("axolotl", "sft")
                    .resources("train", WorkloadResources.gpus(8))
                    .optimizer(new OptimizerSpec(null, 1.0e-5, OptimizerState.RESET))
                    .build()),
            1);
    assertEquals(unset, one);
    assertFalse(
        one.manifests().stream().anyMatch(m -> m.kind().equals("Service")),
        one.manifests().toString());
    assertNull(object(one, "Job", Job.class).getSpec().getCompletionMode());
  }

  @Test
  void aJobNameTooLongForItsPodsHostNamesIsRefused() {
    Phase longName =
        Phase.builder("a-phase-name-of-exactly-forty-characters")
            .until(1.0)
            .framework("axolotl", "sft")
            .resources("train", new WorkloadResources(8, null, null, 2))
            .optimizer(new OptimizerSpec(null, 1.0e-5, OptimizerState.RESET))
            .build();
    PhaseTask task = task("a-run-id-that-is-rather-long", longName);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> renderer.render(task, 1));
    assertTrue(e.getMessage().contains("host names"), e.getMessage());
  }
}
