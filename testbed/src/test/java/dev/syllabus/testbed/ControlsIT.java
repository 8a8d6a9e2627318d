package dev.syllabus.testbed;

import static dev.syllabus.testbed.PhasesIT.grpo;
import static dev.syllabus.testbed.PhasesIT.recipe;
import static dev.syllabus.testbed.PhasesIT.sft;
import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Deadlines;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Advance, skip and cancel on the real control plane, and a worker that is replaced while its phase
 * runs: the new one adopts the running Job.
 */
@Timeout(600)
class ControlsIT {
  private static final Duration A_WHILE = Duration.ofMinutes(3);

  @TempDir Path artifacts;
  private Backend syllabus;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
  }

  private List<String> objectsOf(String run) {
    var kube = syllabus.kube();
    String ns = syllabus.ns;
    return Stream.<List<? extends HasMetadata>>of(
            kube.batch()
                .v1()
                .jobs()
                .inNamespace(ns)
                .withLabel(Renderer.RUN_LABEL, run)
                .list()
                .getItems(),
            kube.apps()
                .deployments()
                .inNamespace(ns)
                .withLabel(Renderer.RUN_LABEL, run)
                .list()
                .getItems(),
            kube.services().inNamespace(ns).withLabel(Renderer.RUN_LABEL, run).list().getItems(),
            kube.configMaps().inNamespace(ns).withLabel(Renderer.RUN_LABEL, run).list().getItems(),
            kube.pods().inNamespace(ns).withLabel(Renderer.RUN_LABEL, run).list().getItems())
        .flatMap(List::stream)
        .map(o -> o.getKind() + "/" + o.getMetadata().getName())
        .toList();
  }

  @Test
  void advanceEndsThePhaseAtItsCheckpointAndTheNextStartsFromIt() {
    syllabus = new Backend("advance", artifacts);
    syllabus.start(
        "a1", recipe(2000, sft(0.5), Phase.builder("more").until(1.0).framework("axolotl", "sft")));
    eventually("sft trains", A_WHILE, () -> syllabus.phase("a1", 0).step() >= 30);
    syllabus.run("a1").advance("good enough");
    RunStatus done = syllabus.finish("a1");

    PhaseStatus advanced = done.phases().get(0);
    assertEquals(PhaseState.ADVANCED, advanced.state(), advanced.toString());
    assertTrue(advanced.step() >= 30 && advanced.step() < 1000, advanced.toString());
    String checkpoint = advanced.artifacts().model().path();
    assertTrue(checkpoint.startsWith("a1/0-sft/checkpoint-"), checkpoint);
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    String input = syllabus.inputModel(Names.jobName("a1", 1, "more", 1));
    assertEquals("/mnt/syllabus/" + checkpoint, input, "the next phase starts from it");
  }

  @Test
  void skipEndsTheRunningPhaseAndHandsItsInputOn() {
    syllabus = new Backend("skip", artifacts);
    syllabus.start(
        "s1", recipe(2000, sft(0.5), Phase.builder("more").until(1.0).framework("axolotl", "sft")));
    eventually("sft trains", A_WHILE, () -> syllabus.phase("s1", 0).step() >= 10);
    syllabus.run("s1").skip("not needed");
    RunStatus done = syllabus.finish("s1");

    assertEquals(PhaseState.SKIPPED, done.phases().get(0).state(), done.toString());
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    String input = syllabus.inputModel(Names.jobName("s1", 1, "more", 1));
    assertEquals("Qwen/Qwen2.5-0.5B-Instruct", input, "the skipped phase's input is handed on");
    assertNull(
        syllabus.job(Names.jobName("s1", 0, "sft", 1)),
        "the skipped phase's unfinished Job is deleted");
  }

  @Test
  void aCancelledRunLeavesNoObjectBehind() {
    syllabus = new Backend("cancel", artifacts);
    syllabus.start("c1", recipe(4000, grpo()));
    eventually("grpo trains", A_WHILE, () -> syllabus.phase("c1", 0).step() >= 10);
    WorkflowStub.fromTyped(syllabus.run("c1")).cancel();
    assertThrows(WorkflowFailedException.class, () -> syllabus.finish("c1"));
    // The garbage collector deletes the Job's and the Deployments' pods and ReplicaSets.
    eventually("nothing of the run is left", A_WHILE, () -> objectsOf("c1").isEmpty());
    assertEquals(
        List.of(),
        syllabus.kube().apps().replicaSets().inNamespace(syllabus.ns).list().getItems().stream()
            .map(r -> r.getMetadata().getName())
            .toList());
  }

  @Test
  void aPhaseWhoseServersCannotStartFailsAndLeavesNoServerBehind() {
    syllabus = new Backend("failed", artifacts);
    syllabus.kube().secrets().inNamespace(syllabus.ns).withName("hf-token").delete();
    eventually(
        "the Secret is gone",
        A_WHILE,
        () ->
            syllabus.kube().secrets().inNamespace(syllabus.ns).withName("hf-token").get() == null);
    syllabus.start("f1", recipe(200, grpo().retries(2)));
    String message = syllabus.failure("f1");
    assertTrue(message.contains("its servers cannot start"), message);
    assertTrue(message.contains("CreateContainerConfigError"), message);
    assertTrue(message.contains("secret \"hf-token\" not found"), message);
    assertNull(
        syllabus.job(Names.jobName("f1", 0, "grpo", 1)), "no Job while its servers cannot start");
    eventually("nothing of the run is left", A_WHILE, () -> objectsOf("f1").isEmpty());
  }

  @Test
  void aNewWorkerAdoptsTheRunningJobInsteadOfCreatingAnother() {
    syllabus = new Backend("adopt", artifacts);
    syllabus.start("w1", recipe(600, sft(1.0)));
    eventually("sft trains", A_WHILE, () -> syllabus.phase("w1", 0).step() >= 20);
    syllabus.stopWorker();
    long stepWhenStopped = syllabus.phase("w1", 0).step();
    syllabus.startWorker();
    RunStatus done = syllabus.finish("w1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(600, done.phases().get(0).step());
    assertTrue(stepWhenStopped < 600, "the worker was replaced while the phase ran");
    assertEquals(
        List.of("Job/" + Names.jobName("w1", 0, "sft", 1)),
        objectsOf("w1").stream().filter(o -> o.startsWith("Job/")).toList(),
        "exactly one Job");
    assertEquals(
        1,
        syllabus
            .kube()
            .pods()
            .inNamespace(syllabus.ns)
            .withLabel(Renderer.RUN_LABEL, "w1")
            .list()
            .getItems()
            .size(),
        "one pod: the Job ran once, undisturbed");
  }

  @Test
  void creatingTwiceAdoptsButAForeignObjectOfTheSameNameIsRefused() {
    syllabus = new Backend("names", artifacts);
    Phase phase = sft(1.0).build();
    PhaseTask task =
        new PhaseTask(
            "a1",
            "k8s",
            0,
            phase,
            new StepRange(0, 50),
            50,
            Triplet.EMPTY,
            DataSpec.of("org/sft-mix"),
            100,
            0,
            null);
    var backend = syllabus.activities;
    var rendered = backend.render(task, 1);
    backend.startJob(rendered);
    backend.startJob(rendered); // a retried activity
    assertEquals(1, objectsOf("a1").stream().filter(o -> o.startsWith("Job/")).count());

    syllabus
        .kube()
        .configMaps()
        .inNamespace(syllabus.ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(Names.jobName("a1", 0, "sft", 2) + "-syllabus-config")
                .endMetadata()
                .build())
        .create();
    ApplicationFailure refused =
        assertThrows(ApplicationFailure.class, () -> backend.startJob(backend.render(task, 2)));
    assertEquals(
        "ConfigMap a1-0-sft-2-syllabus-config already exists in namespace "
            + syllabus.ns
            + " and was not made by Syllabus for a1-0-sft-2 (its labels: none); delete it or start"
            + " the run with another id",
        refused.getOriginalMessage());
    assertEquals(1, objectsOf("a1").stream().filter(o -> o.startsWith("Job/")).count());
  }

  @Test
  void serversThatAreNotReadyInTimeFailThePhaseNamingWhatItWaitedFor() {
    syllabus = new Backend("ready", artifacts);
    // The stand-in servers take a second to start; the phase gives them a fifth of that.
    syllabus.start(
        "d1",
        recipe(100, grpo().deadlines(new Deadlines(200, Deadlines.DEFAULTS.capacityMillis()))));
    String message = syllabus.failure("d1");
    assertTrue(message.contains("its servers were not ready within"), message);
    assertTrue(message.contains("(deadlines.ready)"), message);
    assertTrue(message.contains("Deployment d1-0-grpo-1-"), message);
    assertNull(
        syllabus.job(Names.jobName("d1", 0, "grpo", 1)), "no Job while its servers are not ready");
    eventually("nothing of the run is left", A_WHILE, () -> objectsOf("d1").isEmpty());
  }

  @Test
  void aTrainerThatCrashesIsRetriedAsANewAttemptFromItsCheckpoint() throws Exception {
    syllabus = new Backend("retry", artifacts);
    // The stand-in trainer crashes once, 30 steps in, after saving checkpoint-30.
    java.nio.file.Files.createDirectories(artifacts.resolve("t1/0-sft"));
    java.nio.file.Files.writeString(artifacts.resolve("t1/0-sft/FAIL-ONCE"), "");
    syllabus.start("t1", recipe(200, sft(1.0).retries(1)));
    RunStatus done = syllabus.finish("t1");

    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(2, done.phases().get(0).attempt(), "the second attempt completed");
    assertEquals(200, done.phases().get(0).step());
    Job failed = syllabus.job(Names.jobName("t1", 0, "sft", 1));
    assertTrue(
        failed.getStatus().getConditions().stream()
            .anyMatch(c -> "Failed".equals(c.getType()) && "True".equals(c.getStatus())),
        "the real Job controller failed the first attempt's Job: " + failed.getStatus());
    String resumed =
        syllabus
            .kube()
            .pods()
            .inNamespace(syllabus.ns)
            .withLabel("job-name", Names.jobName("t1", 0, "sft", 2))
            .list()
            .getItems()
            .stream()
            .map(
                p ->
                    syllabus
                        .kube()
                        .pods()
                        .inNamespace(syllabus.ns)
                        .withName(p.getMetadata().getName())
                        .getLog())
            .findFirst()
            .orElseThrow();
    assertTrue(
        resumed.contains("Continuing training from global step 30"),
        "the new attempt resumed from the checkpoint: " + resumed);
  }
}
