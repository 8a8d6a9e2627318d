package dev.syllabus.testbed;

import static dev.syllabus.testbed.PhasesIT.recipe;
import static dev.syllabus.testbed.PhasesIT.sft;
import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A phase that the real Kueue preempts for a Job of higher priority: the trainer gets SIGTERM and
 * saves, the phase shows PREEMPTED with Kueue's reason, waits to be admitted again, and carries on
 * from its checkpoint as the same attempt, in the same Job.
 */
@Timeout(600)
class PreemptionIT {
  private static final Duration A_WHILE = Duration.ofMinutes(3);
  private static final ResourceDefinitionContext PRIORITY_CLASSES =
      new ResourceDefinitionContext.Builder()
          .withGroup("kueue.x-k8s.io")
          .withVersion("v1beta2")
          .withKind("WorkloadPriorityClass")
          .withPlural("workloadpriorityclasses")
          .withNamespaced(false)
          .build();

  @TempDir Path artifacts;
  private Backend syllabus;
  private String clusterQueue;
  private final List<String> priorityClasses = new ArrayList<>();

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
      syllabus
          .kube()
          .genericKubernetesResources(Testbed.CLUSTER_QUEUES)
          .withName(clusterQueue)
          .delete();
      for (String name : priorityClasses) {
        syllabus.kube().genericKubernetesResources(PRIORITY_CLASSES).withName(name).delete();
      }
    }
  }

  /**
   * A namespace whose LocalQueue small feeds a ClusterQueue of its own with {@code gpus}, in which
   * a Workload of higher priority preempts one of lower; and the WorkloadPriorityClasses {@code
   * <namespace>-low} and {@code <namespace>-high}.
   */
  private void preemptingQueue(String prefix, int gpus) {
    syllabus = new Backend(prefix, artifacts);
    clusterQueue = syllabus.ns + "-cq";
    syllabus.testbed.clusterQueue(
        clusterQueue, gpus, Map.of("withinClusterQueue", "LowerPriority"));
    syllabus.testbed.localQueue(syllabus.ns, "small", clusterQueue);
    priorityClass(low(), 100);
    priorityClass(high(), 1000);
  }

  private void priorityClass(String name, int value) {
    GenericKubernetesResource priority =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("kueue.x-k8s.io/v1beta2")
            .withKind("WorkloadPriorityClass")
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .addToAdditionalProperties("value", value)
            .build();
    syllabus.kube().genericKubernetesResources(PRIORITY_CLASSES).resource(priority).create();
    priorityClasses.add(name);
  }

  private String low() {
    return syllabus.ns + "-low";
  }

  private String high() {
    return syllabus.ns + "-high";
  }

  /**
   * Someone else's Job, as anyone submits one to Kueue: a plain Job with the queue and priority
   * labels, asking for {@code gpus}, that runs for {@code seconds}.
   */
  private void submitUrgentJob(String name, int gpus, int seconds) {
    Job job =
        new JobBuilder()
            .withNewMetadata()
            .withName(name)
            .addToLabels(Renderer.KUEUE_QUEUE_LABEL, "small")
            .addToLabels(Renderer.KUEUE_PRIORITY_LABEL, high())
            .endMetadata()
            .withNewSpec()
            .withSuspend(true)
            .withBackoffLimit(0)
            .withNewTemplate()
            .withNewSpec()
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("main")
            .withImage("busybox:1.36")
            .withCommand("sleep", Integer.toString(seconds))
            .withNewResources()
            .withLimits(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus))))
            .endResources()
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    syllabus.kube().batch().v1().jobs().inNamespace(syllabus.ns).resource(job).create();
  }

  private boolean complete(String job) {
    Job j = syllabus.job(job);
    return j != null
        && j.getStatus() != null
        && j.getStatus().getConditions() != null
        && j.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Complete") && c.getStatus().equals("True"));
  }

  private static String logged(ByteArrayOutputStream log) {
    synchronized (log) {
      return log.toString(StandardCharsets.UTF_8);
    }
  }

  private String log(String pod) {
    try {
      return syllabus.kube().pods().inNamespace(syllabus.ns).withName(pod).getLog();
    } catch (RuntimeException notThereYet) {
      return "";
    }
  }

  private List<Pod> pods(String run) {
    return syllabus
        .kube()
        .pods()
        .inNamespace(syllabus.ns)
        .withLabel(Renderer.RUN_LABEL, run)
        .list()
        .getItems();
  }

  /**
   * Every state the run shows its phase in, each time it changes, on a thread of its own; each
   * state and message shown is logged, to read what a person saw.
   */
  private List<PhaseState> recordStates(String run) {
    List<PhaseState> states = Collections.synchronizedList(new ArrayList<>());
    List<String> shown = new ArrayList<>();
    Thread recorder =
        new Thread(
            () -> {
              long until = System.nanoTime() + Duration.ofMinutes(9).toNanos();
              while ((states.isEmpty() || !states.get(states.size() - 1).isFinal())
                  && System.nanoTime() < until) {
                try {
                  PhaseStatus phase = syllabus.phase(run, 0);
                  PhaseState now = phase.state();
                  if (states.isEmpty() || states.get(states.size() - 1) != now) {
                    states.add(now);
                  }
                  String line = now + (phase.message() == null ? "" : ": " + phase.message());
                  if (shown.isEmpty() || !shown.get(shown.size() - 1).equals(line)) {
                    shown.add(line);
                    System.out.println("phase shows " + line);
                  }
                } catch (RuntimeException notStartedOrGone) {
                  // the run is starting, or its environment was closed after a failure
                }
                try {
                  Thread.sleep(50);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "phase-states");
    recorder.setDaemon(true);
    recorder.start();
    return states;
  }

  @Test
  void aPhaseKueuePreemptsSavesWaitsAndCarriesOnFromItsCheckpointAsTheSameAttempt() {
    int gpus = Testbed.GPUS_PER_NODE;
    preemptingQueue("preempt", gpus);
    String name = Names.jobName("lo", 0, "sft", 1);
    syllabus.start(
        "lo",
        recipe(
            1500,
            sft(1.0)
                .queue("small")
                .priority(low())
                .resources("train", new WorkloadResources(gpus, "8", "64Gi"))));
    List<PhaseState> states = recordStates("lo");
    eventually("sft trains", A_WHILE, () -> syllabus.phase("lo", 0).step() >= 100);
    String firstPod = syllabus.livePods("lo").get(0).getMetadata().getName();
    String uid = syllabus.job(name).getMetadata().getUid();
    // Followed as it is written: the pod is gone soon after its trainer exits.
    ByteArrayOutputStream firstLog = new ByteArrayOutputStream();
    LogWatch following =
        syllabus.kube().pods().inNamespace(syllabus.ns).withName(firstPod).watchLog(firstLog);

    submitUrgentJob("urgent", gpus, 15);
    eventually(
        "the phase shows it was preempted, with Kueue's reason",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("lo", 0);
          return p.state() == PhaseState.PREEMPTED
              && p.message() != null
              && p.message().startsWith("preempted by Kueue: Preempted to accommodate a workload");
        });
    eventually(
        "the trainer got SIGTERM and saved a checkpoint",
        A_WHILE,
        () -> logged(firstLog).contains("received SIGTERM at step"));
    following.close();
    eventually(
        "the trainer's pod is gone, its GPUs free",
        A_WHILE,
        () -> syllabus.livePods("lo").isEmpty());
    long saved =
        new ArtifactStore(artifacts)
            .latestCheckpoint(artifacts.resolve("lo/0-sft"))
            .orElseThrow()
            .step();
    assertTrue(saved >= 100, "saved at " + saved);
    eventually(
        "the phase waits to be admitted again (the urgent Job runs meanwhile)",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("lo", 0);
          return p.state() == PhaseState.PREEMPTED
              && p.message()
                  .endsWith("; waits to be admitted again, then resumes from checkpoint " + saved);
        });
    assertFalse(complete("urgent"), "the phase waited while the urgent Job ran");

    eventually("the urgent Job completes", A_WHILE, () -> complete("urgent"));
    eventually(
        "the phase is admitted again and a new pod resumes from the checkpoint",
        A_WHILE,
        () ->
            pods("lo").stream()
                .filter(p -> !p.getMetadata().getName().equals(firstPod))
                .anyMatch(
                    p ->
                        log(p.getMetadata().getName())
                            .contains("Continuing training from global step " + saved)));
    RunStatus done = syllabus.finish("lo");

    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    PhaseStatus sft = done.phases().get(0);
    assertEquals(PhaseState.COMPLETED, sft.state());
    assertEquals(1500, sft.step());
    assertEquals(1, sft.attempt(), "a preemption is not a retry");
    assertEquals(uid, syllabus.job(name).getMetadata().getUid(), "the same Job carried on");
    // Preempted once, then it ran again until it completed; it never failed. (A phase may show
    // PENDING for a moment at its end: its pod has exited, the Job controller has not yet marked
    // the Job complete.)
    eventually(
        "the states recorded reach the phase's end",
        A_WHILE,
        () -> !states.isEmpty() && states.get(states.size() - 1).isFinal());
    List<PhaseState> seen = new ArrayList<>(states);
    assertFalse(seen.contains(PhaseState.FAILED), seen.toString());
    List<PhaseState> after = seen.subList(seen.indexOf(PhaseState.PREEMPTED), seen.size());
    assertEquals(
        List.of(PhaseState.PREEMPTED, PhaseState.RUNNING), after.subList(0, 2), seen.toString());
    assertEquals(1, Collections.frequency(seen, PhaseState.PREEMPTED), seen.toString());
    assertEquals(PhaseState.COMPLETED, seen.get(seen.size() - 1), seen.toString());
  }
}
