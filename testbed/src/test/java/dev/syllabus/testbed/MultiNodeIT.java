package dev.syllabus.testbed;

import static dev.syllabus.testbed.PhasesIT.recipe;
import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Phases whose trainer spans several nodes, on the real control plane: an Indexed Job of one pod
 * per rank, placed by the real scheduler on fake 8-GPU nodes (the test adds them beside {@code
 * testbed/up}'s one, and deletes them after), completed or failed by the real Job controller, and
 * queued whole by Kueue. The stand-in trainer behaves as a distributed one: the ranks wait for each
 * other before training, only rank 0 prints progress and writes checkpoints.
 */
@Timeout(600)
class MultiNodeIT {
  private static final Duration A_WHILE = Duration.ofMinutes(3);

  @TempDir Path artifacts;
  private Backend syllabus;
  private final List<String> addedNodes = new ArrayList<>();
  private String clusterQueue;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
      if (clusterQueue != null) {
        syllabus
            .kube()
            .genericKubernetesResources(Testbed.CLUSTER_QUEUES)
            .withName(clusterQueue)
            .delete();
      }
    }
    for (String node : addedNodes) {
      Testbed.get().deleteNode(node);
    }
  }

  /** The testbed with {@code total} GPU nodes: its own gpu-node-0 and nodes this test adds. */
  private void nodes(int total) {
    for (int i = addedNodes.size() + 1; i < total; i++) {
      String name = "gpu-node-mn-" + i;
      Testbed.get().addNode(name);
      addedNodes.add(name);
    }
  }

  /** An Axolotl SFT phase whose trainer takes every GPU of {@code nodes} nodes. */
  private static Phase.Builder onNodes(String name, double until, int nodes) {
    return Phase.builder(name)
        .until(until)
        .framework("axolotl", "sft")
        .image("ghcr.io/example/axolotl:0.9")
        .resources("train", new WorkloadResources(Testbed.GPUS_PER_NODE, "8", "64Gi", nodes))
        .data(DataSpec.of("org/sft-mix"))
        .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET));
  }

  /** The pods of Job {@code job}, rank by rank (oldest first within a rank). */
  private List<Pod> podsOf(String job) {
    return syllabus
        .kube()
        .pods()
        .inNamespace(syllabus.ns)
        .withLabel("job-name", job)
        .list()
        .getItems()
        .stream()
        .sorted(
            Comparator.comparing(MultiNodeIT::rank)
                .thenComparing(p -> p.getMetadata().getCreationTimestamp()))
        .toList();
  }

  private static int rank(Pod pod) {
    return Integer.parseInt(
        pod.getMetadata().getAnnotations().get("batch.kubernetes.io/job-completion-index"));
  }

  private String log(Pod pod) {
    try {
      return syllabus
          .kube()
          .pods()
          .inNamespace(syllabus.ns)
          .withName(pod.getMetadata().getName())
          .getLog();
    } catch (RuntimeException notStartedYet) {
      return "";
    }
  }

  private long savedCheckpoint(String phaseFolder) {
    return new ArtifactStore(artifacts)
        .latestCheckpoint(artifacts.resolve(phaseFolder))
        .orElseThrow()
        .step();
  }

  @Test
  void aTwoNodePhaseThenAFourNodePhaseRunEndToEndAndHandOnTheCheckpoint() {
    nodes(4);
    syllabus = new Backend("mn-e2e", artifacts);
    syllabus.start("m1", recipe(300, onNodes("pre", 0.4, 2), onNodes("main", 1.0, 4)));
    RunStatus done = syllabus.finish("m1");

    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    PhaseStatus pre = done.phases().get(0);
    assertEquals(PhaseState.COMPLETED, pre.state());
    assertEquals(120, pre.step());
    assertNotNull(pre.loss(), "progress was read from rank 0's log");
    assertEquals("m1/0-pre/checkpoint-120", pre.artifacts().model().path());
    String mainJob = Names.jobName("m1", 1, "main", 1);
    assertTrue(
        syllabus.inputModel(mainJob).endsWith("0-pre/checkpoint-120"),
        "the 4-node phase starts from the 2-node phase's checkpoint: "
            + syllabus.inputModel(mainJob));
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    assertEquals(300, done.step());
    assertTrue(Files.isDirectory(artifacts.resolve("m1/1-main/checkpoint-180")));

    // The phase ends once every rank's pod has Succeeded; the Job controller counts them about a
    // second later, on the Job that teardown keeps for its logs.
    eventually(
        "the Job controller counts every rank as succeeded",
        A_WHILE,
        () -> {
          Job job = syllabus.job(mainJob);
          return job != null
              && job.getStatus() != null
              && Integer.valueOf(4).equals(job.getStatus().getSucceeded());
        });
    List<Pod> pods = podsOf(mainJob);
    assertEquals(List.of(0, 1, 2, 3), pods.stream().map(MultiNodeIT::rank).toList());
    Set<String> nodes =
        pods.stream().map(p -> p.getSpec().getNodeName()).collect(Collectors.toSet());
    assertEquals(4, nodes.size(), "one rank per node: " + nodes);
    assertTrue(log(pods.get(0)).contains("Training completed"), "rank 0 trained to the end");
    for (Pod other : pods.subList(1, 4)) {
      String printed = log(other);
      assertTrue(
          printed.contains("node rank " + rank(other) + " of 4 trains from step 0"), printed);
      assertTrue(printed.contains("node rank " + rank(other) + " done"), printed);
      assertFalse(printed.contains("'loss'"), "only rank 0 prints progress: " + printed);
    }
  }

  @Test
  void pausingAFourNodePhaseStopsEveryRankAndResumeStartsThemAllFromRankZerosCheckpoint() {
    nodes(4);
    syllabus = new Backend("mn-pause", artifacts);
    syllabus.start("p1", recipe(600, onNodes("main", 1.0, 4)));
    eventually("the ranks train", A_WHILE, () -> syllabus.phase("p1", 0).step() >= 40);

    ControlAnswer answer = syllabus.run("p1").pauseRun("lunch");
    assertEquals(PhaseState.PAUSED, answer.phaseState(), answer.message());
    assertEquals(List.of(), syllabus.livePods("p1"), "a paused phase runs no rank");
    long saved = savedCheckpoint("p1/0-main");
    assertTrue(saved >= 40, "rank 0 saved a checkpoint on SIGTERM: " + saved);
    assertEquals(saved, answer.checkpoint(), "the answer names the checkpoint it resumes from");
    String name = Names.jobName("p1", 0, "main", 1);
    Set<String> before =
        podsOf(name).stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());

    syllabus.run("p1").resumeRun(null);
    eventually(
        "four new pods, every rank resuming from checkpoint " + saved,
        A_WHILE,
        () -> {
          List<Pod> fresh =
              podsOf(name).stream()
                  .filter(p -> !before.contains(p.getMetadata().getName()))
                  .toList();
          return fresh.size() == 4
              && log(fresh.get(0)).contains("Continuing training from global step " + saved)
              && fresh.subList(1, 4).stream()
                  .allMatch(
                      p ->
                          log(p)
                              .contains(
                                  "node rank " + rank(p) + " of 4 trains from step " + saved));
        });
    RunStatus done = syllabus.finish("p1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(600, done.phases().get(0).step());
  }

  @Test
  void oneFailingRankFailsThePhaseWithItsReasonAndTheOtherRanksAreStopped() throws Exception {
    nodes(4);
    syllabus = new Backend("mn-fail", artifacts);
    Files.createDirectories(artifacts.resolve("f1/0-main"));
    Files.writeString(artifacts.resolve("f1/0-main/FAIL-ONCE"), "rank 2");
    syllabus.start("f1", recipe(600, onNodes("main", 1.0, 4).retries(0)));

    String message = syllabus.failure("f1");
    String job = Names.jobName("f1", 0, "main", 1);
    assertTrue(message.contains("rank 2 (pod " + job + "-2-"), message);
    assertTrue(
        message.contains(
            "failed: exit code 1: RuntimeError: CUDA error: an illegal memory access was"
                + " encountered"),
        message);
    // The Job controller deletes the other ranks' pods at once (FailureTarget), and marks the Job
    // Failed once they have all terminated.
    eventually(
        "the other ranks are stopped and the Job failed",
        A_WHILE,
        () ->
            syllabus.livePods("f1").isEmpty()
                && syllabus.job(job).getStatus().getConditions().stream()
                    .anyMatch(c -> "Failed".equals(c.getType()) && "True".equals(c.getStatus())));
    assertEquals(
        4,
        syllabus.job(job).getStatus().getFailed(),
        "every rank's pod ended as failed or stopped");
  }

  @Test
  void aRetryAfterAFailingRankStartsEveryRankAgainFromTheLatestCheckpoint() throws Exception {
    nodes(4);
    syllabus = new Backend("mn-retry", artifacts);
    Files.createDirectories(artifacts.resolve("t1/0-main"));
    Files.writeString(artifacts.resolve("t1/0-main/FAIL-ONCE"), "rank 1");
    syllabus.start("t1", recipe(200, onNodes("main", 1.0, 4).retries(1)));
    RunStatus done = syllabus.finish("t1");

    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(2, done.phases().get(0).attempt(), "the second attempt completed");
    assertEquals(200, done.phases().get(0).step());
    List<Pod> second = podsOf(Names.jobName("t1", 0, "main", 2));
    assertEquals(List.of(0, 1, 2, 3), second.stream().map(MultiNodeIT::rank).toList());
    String rankZero = log(second.get(0));
    assertTrue(
        rankZero.matches("(?s).*Continuing training from global step [1-9][0-9]*\\b.*"),
        "the new attempt resumed from a checkpoint of the first: " + rankZero);
  }

  @Test
  void aFourNodePhaseOnTwoNodesWaitsForCapacityUntilNodesAreAdded() {
    nodes(2);
    syllabus = new Backend("mn-room", artifacts);
    syllabus.start("w1", recipe(200, onNodes("main", 1.0, 4)));
    eventually(
        "the phase waits for capacity with two ranks placed",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("w1", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().startsWith("waiting for capacity: 2 of 4 ranks placed; pod ")
              && p.message().contains("Insufficient nvidia.com/gpu");
        });
    assertEquals(0, syllabus.phase("w1", 0).step(), "no rank trains before all have joined");

    nodes(4);
    RunStatus done = syllabus.finish("w1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(200, done.phases().get(0).step());
  }

  @Test
  void kueueAdmitsAFourNodePhaseWholeOnceItsQueueHasTheQuota() {
    nodes(4);
    syllabus = new Backend("mn-kueue", artifacts);
    clusterQueue = syllabus.ns + "-cq";
    syllabus.testbed.clusterQueue(clusterQueue, 2 * Testbed.GPUS_PER_NODE, Map.of());
    syllabus.testbed.localQueue(syllabus.ns, "small", clusterQueue);
    syllabus.start("k1", recipe(200, onNodes("main", 1.0, 4).queue("small")));
    eventually(
        "the phase waits in the queue",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("k1", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().startsWith("waiting for capacity: queued in Kueue queue small");
        });
    assertEquals(
        List.of(),
        podsOf(Names.jobName("k1", 0, "main", 1)),
        "no rank starts while the queue has quota for only half of them");

    GenericKubernetesResource queue =
        syllabus
            .kube()
            .genericKubernetesResources(Testbed.CLUSTER_QUEUES)
            .withName(clusterQueue)
            .get();
    raiseGpuQuota(queue, 4 * Testbed.GPUS_PER_NODE);
    syllabus.kube().genericKubernetesResources(Testbed.CLUSTER_QUEUES).resource(queue).update();
    RunStatus done = syllabus.finish("k1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(200, done.phases().get(0).step());
  }

  @SuppressWarnings("unchecked")
  private static void raiseGpuQuota(GenericKubernetesResource queue, int gpus) {
    Map<String, Object> spec = (Map<String, Object>) queue.getAdditionalProperties().get("spec");
    for (Object group : (List<Object>) spec.get("resourceGroups")) {
      for (Object flavor : (List<Object>) ((Map<String, Object>) group).get("flavors")) {
        for (Object resource : (List<Object>) ((Map<String, Object>) flavor).get("resources")) {
          Map<String, Object> r = (Map<String, Object>) resource;
          if ("nvidia.com/gpu".equals(r.get("name"))) {
            r.put("nominalQuota", Integer.toString(gpus));
          }
        }
      }
    }
  }
}
