package dev.syllabus.testbed;

import static dev.syllabus.testbed.PhasesIT.recipe;
import static dev.syllabus.testbed.PhasesIT.sft;
import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Deadlines;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Phases in a Kueue queue, with the real Kueue: its webhook suspends the Job at creation, it admits
 * the Workload against a ClusterQueue's quota, starts and stops the Job, and keeps a Workload that
 * does not fit waiting.
 */
@Timeout(600)
class KueueIT {
  private static final Duration A_WHILE = Duration.ofMinutes(3);
  private static final ResourceDefinitionContext WORKLOADS =
      new ResourceDefinitionContext.Builder()
          .withGroup("kueue.x-k8s.io")
          .withVersion("v1beta2")
          .withKind("Workload")
          .withPlural("workloads")
          .withNamespaced(true)
          .build();

  @TempDir Path artifacts;
  private Backend syllabus;
  private String clusterQueue;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
      syllabus
          .kube()
          .genericKubernetesResources(Testbed.CLUSTER_QUEUES)
          .withName(clusterQueue)
          .delete();
    }
  }

  /** A namespace whose LocalQueue small feeds a ClusterQueue of its own with {@code gpus}. */
  private void queue(String prefix, int gpus) {
    syllabus = new Backend(prefix, artifacts);
    clusterQueue = syllabus.ns + "-cq";
    syllabus.testbed.clusterQueue(clusterQueue, gpus, Map.of());
    syllabus.testbed.localQueue(syllabus.ns, "small", clusterQueue);
  }

  private static WorkloadResources gpus(int n) {
    return new WorkloadResources(n, "8", "64Gi");
  }

  private GenericKubernetesResource workloadOf(String job) {
    return syllabus
        .kube()
        .genericKubernetesResources(WORKLOADS)
        .inNamespace(syllabus.ns)
        .list()
        .getItems()
        .stream()
        .filter(
            w ->
                w.getMetadata().getOwnerReferences() != null
                    && w.getMetadata().getOwnerReferences().stream()
                        .anyMatch(o -> o.getName().equals(job)))
        .findFirst()
        .orElse(null);
  }

  private int jobsOf(String run) {
    return syllabus
        .kube()
        .batch()
        .v1()
        .jobs()
        .inNamespace(syllabus.ns)
        .withLabel(Renderer.RUN_LABEL, run)
        .list()
        .getItems()
        .size();
  }

  @Test
  void aQueuedPhaseWaitsForAdmissionAndRunsWhenTheQuotaIsFree() {
    queue("kqueue", 4);
    syllabus.start("first", recipe(100_000, sft(1.0).queue("small").resources("train", gpus(4))));
    eventually(
        "the first phase is admitted and its pod runs", A_WHILE, () -> syllabus.podRuns("first"));
    syllabus.start("second", recipe(100, sft(1.0).queue("small").resources("train", gpus(4))));
    eventually(
        "the second phase waits in the queue",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("second", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().startsWith("waiting for capacity: queued in Kueue queue small");
        });
    syllabus.run("first").skip("make room");
    RunStatus done = syllabus.finish("second");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(100, done.phases().get(0).step());
  }

  @Test
  void pauseDeactivatesTheWorkloadAndResumeCarriesOn() {
    queue("kpause", 8);
    syllabus.start("q1", recipe(1000, sft(1.0).queue("small").resources("train", gpus(4))));
    eventually("sft trains", A_WHILE, () -> syllabus.phase("q1", 0).step() >= 100);
    syllabus.run("q1").pause(null);
    eventually(
        "sft is paused", A_WHILE, () -> syllabus.phase("q1", 0).state() == PhaseState.PAUSED);
    String name = Names.jobName("q1", 0, "sft", 1);
    GenericKubernetesResource workload = workloadOf(name);
    assertEquals(false, ((Map<?, ?>) workload.getAdditionalProperties().get("spec")).get("active"));
    assertEquals(
        Boolean.TRUE,
        syllabus
            .kube()
            .batch()
            .v1()
            .jobs()
            .inNamespace(syllabus.ns)
            .withName(name)
            .get()
            .getSpec()
            .getSuspend(),
        "Kueue suspended the Job");

    syllabus.run("q1").resume(null);
    RunStatus done = syllabus.finish("q1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(1000, done.phases().get(0).step());
    assertEquals(1, jobsOf("q1"), "one Job, deactivated and activated again");
  }

  @Test
  void aPhaseTheQueueCannotAdmitWaitsUntilTheCapacityDeadline() {
    queue("kfull", 4);
    syllabus.start(
        "q2",
        recipe(
            100,
            sft(1.0)
                .queue("small")
                .resources("train", gpus(8))
                .deadlines(new Deadlines(Deadlines.DEFAULTS.readyMillis(), 5_000))));
    eventually(
        "the phase waits in the queue",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("q2", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().startsWith("waiting for capacity: queued in Kueue queue small");
        });
    String message = syllabus.failure("q2");
    assertTrue(message.contains("found no room in the cluster within 5s"), message);
  }
}
