package dev.syllabus.testbed;

import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Phases on the real control plane: objects accepted by the API server, servers made ready by the
 * real Deployment and EndpointSlice controllers, Jobs completed by the real Job controller, pods
 * placed by the real scheduler against the nodes' GPUs, and everything deleted by the real garbage
 * collector. Only the containers are played (the testbed's player).
 */
@Timeout(600)
class PhasesIT {
  private static final Duration A_WHILE = Duration.ofMinutes(3);

  @TempDir Path artifacts;
  private Backend syllabus;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
  }

  static Phase.Builder sft(double until) {
    return Phase.builder("sft")
        .until(until)
        .framework("axolotl", "sft")
        .image("ghcr.io/example/axolotl:0.9")
        .resources("train", new WorkloadResources(2, "8", "64Gi"))
        .data(DataSpec.of("org/sft-mix"))
        .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET));
  }

  static Phase.Builder grpo() {
    return Phase.builder("grpo")
        .until(1.0)
        .framework("verifiers", "grpo")
        .image("ghcr.io/example/verifiers:0.1")
        .resources("train", new WorkloadResources(4, null, null))
        .resources("vllm", new WorkloadResources(2, null, null))
        .resources("rewards", new WorkloadResources(1, null, null))
        .optimizer(new OptimizerSpec(null, 1e-6, OptimizerState.RESET));
  }

  static Recipe recipe(long totalSteps, Phase.Builder... phases) {
    Recipe.Builder b =
        Recipe.builder("k8s").totalSteps(totalSteps).baseModel("Qwen/Qwen2.5-0.5B-Instruct");
    for (Phase.Builder p : phases) {
      b.phase(p);
    }
    return b.build();
  }

  private List<String> names(Stream<? extends HasMetadata> objects) {
    return objects.map(o -> o.getMetadata().getName()).sorted().toList();
  }

  private List<String> leftovers(String run) {
    var kube = syllabus.kube();
    String ns = syllabus.ns;
    return Stream.of(
            names(
                    kube
                        .apps()
                        .deployments()
                        .inNamespace(ns)
                        .withLabel(Renderer.RUN_LABEL, run)
                        .list()
                        .getItems()
                        .stream())
                .stream()
                .map(n -> "Deployment/" + n),
            names(
                    kube
                        .services()
                        .inNamespace(ns)
                        .withLabel(Renderer.RUN_LABEL, run)
                        .list()
                        .getItems()
                        .stream())
                .stream()
                .map(n -> "Service/" + n),
            names(
                    kube
                        .configMaps()
                        .inNamespace(ns)
                        .withLabel(Renderer.RUN_LABEL, run)
                        .list()
                        .getItems()
                        .stream())
                .stream()
                .map(n -> "ConfigMap/" + n))
        .flatMap(s -> s)
        .toList();
  }

  private String podLog(Pod pod) {
    return syllabus
        .kube()
        .pods()
        .inNamespace(syllabus.ns)
        .withName(pod.getMetadata().getName())
        .getLog();
  }

  @Test
  void anAxolotlSftPhaseThenAVerifiersGrpoPhaseRunWithServersFirstAndCleanedUpAfter()
      throws Exception {
    syllabus = new Backend("e2e", artifacts);
    String grpoJob = Names.jobName("r1", 1, "grpo", 1);
    // When the GRPO Job appears, how many replicas of its servers were available.
    Map<String, Integer> availableAtJobCreation = new ConcurrentHashMap<>();
    var kube = syllabus.kube();
    Watch watch =
        kube.batch()
            .v1()
            .jobs()
            .inNamespace(syllabus.ns)
            .watch(
                new Watcher<Job>() {
                  @Override
                  public void eventReceived(Action action, Job job) {
                    if (action == Action.ADDED && job.getMetadata().getName().equals(grpoJob)) {
                      for (String server : List.of("vllm", "rewards")) {
                        var d =
                            kube.apps()
                                .deployments()
                                .inNamespace(syllabus.ns)
                                .withName(grpoJob + "-" + server)
                                .get();
                        Integer available =
                            d == null || d.getStatus() == null
                                ? null
                                : d.getStatus().getAvailableReplicas();
                        availableAtJobCreation.put(server, available == null ? 0 : available);
                      }
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    syllabus.start("r1", recipe(200, sft(0.3), grpo()));
    RunStatus done = syllabus.finish("r1");
    watch.close();

    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(200, done.step());
    PhaseStatus sftDone = done.phases().get(0);
    assertEquals(PhaseState.COMPLETED, sftDone.state());
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    assertEquals(60, sftDone.step());
    assertNotNull(sftDone.loss(), "progress was read from the trainer's log through the API");
    assertEquals("r1/0-sft/checkpoint-60", sftDone.artifacts().model().path());
    assertTrue(Files.isDirectory(artifacts.resolve("r1/1-grpo/checkpoint-140")));
    RunRecord record = RunRecords.read(RunRecords.fileOf(artifacts, "r1"));
    assertEquals("COMPLETED", record.state());
    assertEquals("kubernetes", record.backend());
    assertEquals("r1/0-sft/checkpoint-60", record.phases().get(0).output().model().path());
    Map<String, String> grpoImages = record.phases().get(1).images();
    assertTrue(grpoImages.containsKey("job/trainer"), grpoImages.toString());
    assertTrue(
        grpoImages.containsKey("deployment/vllm") && grpoImages.containsKey("deployment/rewards"),
        "the vLLM and rewards servers' images: " + grpoImages);
    assertEquals(
        Map.of("vllm", 1, "rewards", 1),
        availableAtJobCreation,
        "the GRPO Job was created once both servers were available");
    eventually("the servers and ConfigMaps are gone", A_WHILE, () -> leftovers("r1").isEmpty());
    Job kept = syllabus.job(grpoJob);
    assertNotNull(kept, "a finished Job is kept for its logs");
    assertEquals(86400, kept.getSpec().getTtlSecondsAfterFinished());
    assertEquals(
        2,
        kube.batch().v1().jobs().inNamespace(syllabus.ns).list().getItems().size(),
        "one Job per phase");
  }

  @Test
  void pauseFreesTheGpusForAnotherPodAndResumeCarriesOnFromTheCheckpoint() {
    syllabus = new Backend("pause", artifacts);
    // The trainer takes every GPU of the node.
    var phase =
        sft(1.0).resources("train", new WorkloadResources(Testbed.GPUS_PER_NODE, "8", "64Gi"));
    syllabus.start("p1", recipe(1000, phase));
    eventually("sft trains", A_WHILE, () -> syllabus.phase("p1", 0).step() >= 30);
    // The pause, as `syllabus pause` sends it, answers once the trainer's pods are gone.
    ControlAnswer answer = syllabus.run("p1").pauseRun("lunch");

    assertEquals(List.of(), names(syllabus.livePods("p1").stream()), "a paused phase runs no pods");
    assertEquals(PhaseState.PAUSED, answer.phaseState(), answer.message());
    String name = Names.jobName("p1", 0, "sft", 1);
    Job paused = syllabus.job(name);
    assertEquals(Boolean.TRUE, paused.getSpec().getSuspend());
    long saved =
        new ArtifactStore(artifacts)
            .latestCheckpoint(artifacts.resolve("p1/0-sft"))
            .orElseThrow()
            .step();
    assertTrue(saved >= 30, "the trainer saved a checkpoint on SIGTERM: " + saved);
    assertEquals(saved, answer.checkpoint(), "the answer names the checkpoint it resumes from");

    // The scheduler can place another pod that needs every GPU of a node.
    Pod other =
        syllabus
            .kube()
            .pods()
            .inNamespace(syllabus.ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("someone-else")
                    .endMetadata()
                    .withNewSpec()
                    .withRestartPolicy("Never")
                    .addNewContainer()
                    .withName("main")
                    .withImage("busybox:1.36")
                    .withCommand("sleep", "600")
                    .withNewResources()
                    .withLimits(
                        Map.of(
                            "nvidia.com/gpu",
                            new Quantity(Integer.toString(Testbed.GPUS_PER_NODE))))
                    .endResources()
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    eventually(
        "the other pod is scheduled on the freed GPUs",
        A_WHILE,
        () ->
            syllabus
                    .kube()
                    .pods()
                    .inNamespace(syllabus.ns)
                    .withName("someone-else")
                    .get()
                    .getSpec()
                    .getNodeName()
                != null);
    syllabus.kube().pods().inNamespace(syllabus.ns).resource(other).withGracePeriod(0).delete();
    eventually(
        "the other pod is gone",
        A_WHILE,
        () ->
            syllabus.kube().pods().inNamespace(syllabus.ns).withName("someone-else").get() == null);

    syllabus.run("p1").resumeRun(null);
    eventually(
        "a new pod resumes from the checkpoint saved at the pause",
        A_WHILE,
        () ->
            syllabus.livePods("p1").stream()
                .anyMatch(
                    p -> {
                      try {
                        return podLog(p).contains("Continuing training from global step " + saved);
                      } catch (RuntimeException notStartedYet) {
                        return false;
                      }
                    }));
    RunStatus done = syllabus.finish("p1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(1000, done.phases().get(0).step());
    // The trainer exited 0 on the SIGTERM of the suspension; the Job controller did not count
    // that as the Job's success (the simulator assumed it would), so the same Job carried on.
    assertEquals(paused.getMetadata().getUid(), syllabus.job(name).getMetadata().getUid());
  }

  @Test
  void pausingAGrpoPhaseFreesItsServersGpusTooAndResumeWaitsForThemToBeReady() {
    syllabus = new Backend("grpopause", artifacts);
    syllabus.start("g1", recipe(2000, grpo()));
    eventually("grpo trains", A_WHILE, () -> syllabus.phase("g1", 0).step() >= 100);
    syllabus.run("g1").pause(null);
    eventually(
        "grpo is paused", A_WHILE, () -> syllabus.phase("g1", 0).state() == PhaseState.PAUSED);
    String name = Names.jobName("g1", 0, "grpo", 1);
    for (String server : List.of("vllm", "rewards")) {
      var d =
          syllabus
              .kube()
              .apps()
              .deployments()
              .inNamespace(syllabus.ns)
              .withName(name + "-" + server)
              .get();
      assertEquals(0, d.getSpec().getReplicas(), server + " is scaled to zero while paused");
    }
    eventually("no pod of the phase runs", A_WHILE, () -> syllabus.livePods("g1").isEmpty());

    // When the Job is started again, how many replicas of its servers were available.
    Map<String, Integer> availableAtRestart = new ConcurrentHashMap<>();
    var kube = syllabus.kube();
    Watch watch =
        kube.batch()
            .v1()
            .jobs()
            .inNamespace(syllabus.ns)
            .withName(name)
            .watch(
                new Watcher<Job>() {
                  @Override
                  public void eventReceived(Action action, Job job) {
                    if (!Boolean.TRUE.equals(job.getSpec().getSuspend())
                        && availableAtRestart.isEmpty()) {
                      for (String server : List.of("vllm", "rewards")) {
                        var d =
                            kube.apps()
                                .deployments()
                                .inNamespace(syllabus.ns)
                                .withName(name + "-" + server)
                                .get();
                        Integer available =
                            d.getStatus() == null ? null : d.getStatus().getAvailableReplicas();
                        availableAtRestart.put(server, available == null ? 0 : available);
                      }
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    syllabus.run("g1").resume(null);
    RunStatus done = syllabus.finish("g1");
    watch.close();
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(2000, done.phases().get(0).step());
    assertEquals(
        Map.of("vllm", 1, "rewards", 1),
        availableAtRestart,
        "the Job started again once both servers were available again");
  }
}
