package dev.syllabus.activities.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.sim.Behaviour;
import dev.syllabus.activities.kubernetes.sim.SimulatedCluster;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.SearchKeys;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Deadlines;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.api.history.v1.History;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubernetes backend under the real workflows, against fabric8's mock API server in CRUD mode
 * with {@link SimulatedCluster} playing the controllers, the scheduler and the kubelet.
 */
@Timeout(180)
class KubernetesBackendTest {
  private static final Path KUBECONFIGS = Path.of("..", "kubeconfigs").toAbsolutePath().normalize();
  private static final String NS = "ml";
  private static final RunSettings FAST = new RunSettings(100, 0);

  @TempDir Path artifacts;
  private SimulatedCluster cluster;
  private TestWorkflowEnvironment env;
  private WorkflowClient temporal;
  private WorkerFactory workers;
  private KubernetesPhaseActivities backend;

  @BeforeEach
  void setUp() {
    cluster = SimulatedCluster.start(NS, artifacts);
    cluster.trainerSpeed(Duration.ofMillis(5));
    env =
        TestWorkflowEnvironment.newInstance(
            io.temporal.testing.TestEnvironmentOptions.newBuilder()
                .setUseTimeskipping(false)
                .build());
    for (SearchKeys.Definition d : SearchKeys.ALL) {
      env.registerSearchAttribute(d.name(), d.type());
    }
    env.start();
    temporal = env.getWorkflowClient();
    startWorkflowWorker();
    startWorker();
    secret("hf-token", "token", "hf_s3cr3t_value_never_in_history");
  }

  @AfterEach
  void tearDown() {
    stopWorker();
    workflowWorkers.shutdownNow();
    env.close();
    cluster.close();
  }

  /** The workflows' worker: it stays up (its durability is tested against the real server). */
  private WorkerFactory workflowWorkers;

  private void startWorkflowWorker() {
    workflowWorkers = WorkerFactory.newInstance(temporal);
    workflowWorkers
        .newWorker(CurriculumWorkflow.TASK_QUEUE)
        .registerWorkflowImplementationTypes(CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    workflowWorkers.start();
  }

  /** A worker process with the kubernetes backend: it knows nothing but what the cluster says. */
  private void startWorker() {
    backend =
        new KubernetesPhaseActivities(
            new Renderer(new Kubeconfigs(KUBECONFIGS)),
            new ArtifactStore(artifacts),
            cluster.client(),
            NS);
    workers = WorkerFactory.newInstance(temporal);
    workers.newWorker(CurriculumWorkflow.TASK_QUEUE).registerActivitiesImplementations(backend);
    workers.start();
  }

  private void stopWorker() {
    workers.shutdownNow();
    workers.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    backend.close();
  }

  private void secret(String name, String key, String value) {
    cluster
        .client()
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .addToStringData(key, value)
                .build())
        .create();
  }

  // --- recipes ----------------------------------------------------------------------------

  private static Phase.Builder sft(double until) {
    return Phase.builder("sft")
        .until(until)
        .framework("axolotl", "sft")
        .image("ghcr.io/example/axolotl:0.9")
        .resources("train", new WorkloadResources(2, "8", "64Gi"))
        .data(DataSpec.of("org/sft-mix"))
        .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET));
  }

  private static Phase.Builder grpo() {
    return Phase.builder("grpo")
        .until(1.0)
        .framework("verifiers", "grpo")
        .image("ghcr.io/example/verifiers:0.1")
        .resources("train", new WorkloadResources(4, null, null))
        .resources("vllm", new WorkloadResources(2, null, null))
        .resources("rewards", new WorkloadResources(1, null, null))
        .optimizer(new OptimizerSpec(null, 1e-6, OptimizerState.RESET));
  }

  private static Recipe recipe(long totalSteps, Phase.Builder... phases) {
    Recipe.Builder b =
        Recipe.builder("k8s").totalSteps(totalSteps).baseModel("Qwen/Qwen2.5-0.5B-Instruct");
    for (Phase.Builder p : phases) {
      b.phase(p);
    }
    return b.build();
  }

  private CurriculumWorkflow start(String id, Recipe recipe) {
    CurriculumWorkflow run =
        temporal.newWorkflowStub(
            CurriculumWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(id)
                .setTaskQueue(CurriculumWorkflow.TASK_QUEUE)
                .build());
    WorkflowClient.start(run::run, new RunInput(recipe, FAST, null));
    return run;
  }

  private RunStatus finish(String id) {
    return WorkflowStub.fromTyped(temporal.newWorkflowStub(CurriculumWorkflow.class, id))
        .getResult(RunStatus.class);
  }

  private RunStatus status(String id) {
    return temporal.newWorkflowStub(CurriculumWorkflow.class, id).status();
  }

  private PhaseStatus phase(String id, int index) {
    return status(id).phases().get(index);
  }

  private static void eventually(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private KubernetesClient kube() {
    return cluster.client();
  }

  private List<String> names(Stream<? extends io.fabric8.kubernetes.api.model.HasMetadata> s) {
    return s.map(o -> o.getMetadata().getName()).sorted().toList();
  }

  private List<String> servers(String run) {
    return Stream.concat(
            names(
                    kube()
                        .apps()
                        .deployments()
                        .inNamespace(NS)
                        .withLabel(Renderer.RUN_LABEL, run)
                        .list()
                        .getItems()
                        .stream())
                .stream()
                .map(n -> "Deployment/" + n),
            names(
                    kube()
                        .services()
                        .inNamespace(NS)
                        .withLabel(Renderer.RUN_LABEL, run)
                        .list()
                        .getItems()
                        .stream())
                .stream()
                .map(n -> "Service/" + n))
        .toList();
  }

  private Job job(String name) {
    return kube().batch().v1().jobs().inNamespace(NS).withName(name).get();
  }

  private String failure(String id) {
    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> finish(id));
    Throwable t = e;
    String message = e.getMessage();
    while (t != null) {
      message = t.getMessage();
      t = t.getCause();
    }
    return message;
  }

  // --- end to end ---------------------------------------------------------------------------

  @Test
  void anAxolotlSftPhaseThenAVerifiersGrpoPhaseRunWithServersFirstAndCleanedUpAfter()
      throws Exception {
    cluster.serverStartDelay(Duration.ofMillis(500));
    String grpoJob = Names.jobName("r1", 1, "grpo", 1);
    // When the GRPO Job appears, how available its servers are (read after: at least as new).
    Map<String, Integer> availableAtJobCreation = new java.util.concurrent.ConcurrentHashMap<>();
    KubernetesClient observer = cluster.newClient();
    var watch =
        observer
            .batch()
            .v1()
            .jobs()
            .inNamespace(NS)
            .watch(
                new io.fabric8.kubernetes.client.Watcher<Job>() {
                  @Override
                  public void eventReceived(Action action, Job job) {
                    if (action == Action.ADDED && job.getMetadata().getName().equals(grpoJob)) {
                      for (String server : List.of("vllm", "rewards")) {
                        var d =
                            observer
                                .apps()
                                .deployments()
                                .inNamespace(NS)
                                .withName(grpoJob + "-" + server)
                                .get();
                        Integer available = d == null ? null : d.getStatus().getAvailableReplicas();
                        availableAtJobCreation.put(server, available == null ? 0 : available);
                      }
                    }
                  }

                  @Override
                  public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {}
                });
    start("r1", recipe(200, sft(0.3), grpo()));
    RunStatus done = finish("r1");

    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(200, done.step());
    PhaseStatus sftDone = done.phases().get(0);
    PhaseStatus grpoDone = done.phases().get(1);
    assertEquals(PhaseState.COMPLETED, sftDone.state());
    assertEquals(PhaseState.COMPLETED, grpoDone.state());
    assertEquals(60, sftDone.step());
    assertNotNull(sftDone.loss());
    // The GRPO phase started from the SFT phase's last checkpoint.
    assertEquals("r1/0-sft/checkpoint-60", sftDone.artifacts().model().path());
    assertTrue(Files.isDirectory(artifacts.resolve("r1/0-sft/checkpoint-60")));
    assertTrue(Files.isDirectory(artifacts.resolve("r1/1-grpo/checkpoint-140")));

    // The GRPO Job was created only once both servers were available.
    watch.close();
    observer.close();
    assertEquals(Map.of("vllm", 1, "rewards", 1), availableAtJobCreation);
    // Servers and ConfigMaps are gone; the finished Jobs are kept a day for their logs.
    assertEquals(List.of(), servers("r1"));
    assertEquals(
        List.of(),
        names(
            kube()
                .configMaps()
                .inNamespace(NS)
                .withLabel(Renderer.RUN_LABEL, "r1")
                .list()
                .getItems()
                .stream()));
    Job kept = job(grpoJob);
    assertNotNull(kept);
    assertEquals(86400, kept.getSpec().getTtlSecondsAfterFinished());
    assertEquals(2, cluster.createdCount("jobs"), "one Job per phase");
  }

  @Test
  void pauseSuspendsTheJobAndResumeCarriesOnFromItsCheckpoint() {
    pauseAndResume(false);
  }

  /**
   * A real Job controller counts a pod that exits 0 after SIGTERM as succeeded, so a suspended Job
   * may complete: it is stopped all the same, and made anew to resume.
   */
  @Test
  void aJobThatCompletesWhileSuspendingIsMadeAnewToResume() {
    pauseAndResume(true);
  }

  private void pauseAndResume(boolean stoppedPodsCount) {
    cluster.suspendCountsStoppedPods(stoppedPodsCount);
    cluster.trainerSpeed(Duration.ofMillis(40));
    start("r2", recipe(400, sft(1.0)));
    eventually("sft trains", () -> phase("r2", 0).step() >= 30);
    temporal.newWorkflowStub(CurriculumWorkflow.class, "r2").pause("lunch");
    eventually("sft is paused", () -> phase("r2", 0).state() == PhaseState.PAUSED);

    String name = Names.jobName("r2", 0, "sft", 1);
    Job suspended = job(name);
    assertEquals(Boolean.TRUE, suspended.getSpec().getSuspend());
    assertEquals(
        List.of(),
        names(
            kube().pods().inNamespace(NS).withLabel("job-name", name).list().getItems().stream()
                .filter(
                    p ->
                        !"Succeeded".equals(p.getStatus().getPhase())
                            && !"Failed".equals(p.getStatus().getPhase()))),
        "a paused phase runs no pods (its GPUs are free)");
    long saved =
        new ArtifactStore(artifacts)
            .latestCheckpoint(artifacts.resolve("r2/0-sft"))
            .orElseThrow()
            .step();
    assertTrue(saved >= 30, "the trainer saved a checkpoint on SIGTERM: " + saved);

    temporal.newWorkflowStub(CurriculumWorkflow.class, "r2").resume(null);
    eventually(
        "a new pod resumes from the checkpoint saved at the pause",
        () ->
            kube().pods().inNamespace(NS).withLabel("job-name", name).list().getItems().stream()
                .anyMatch(
                    p -> {
                      try {
                        return cluster
                            .podLog(p.getMetadata().getName())
                            .contains("Continuing training from global step " + saved);
                      } catch (RuntimeException notStartedYet) {
                        return false;
                      }
                    }));
    RunStatus done = finish("r2");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(400, done.phases().get(0).step());
    assertEquals(
        stoppedPodsCount ? 2 : 1,
        cluster.createdCount("jobs"),
        "one Job, suspended and resumed; made anew when it completed while suspending");
  }

  @Test
  void pausingAGrpoPhaseFreesItsServersGpusTooAndResumeWaitsForThemToBeReady() {
    cluster.trainerSpeed(Duration.ofMillis(40)).serverStartDelay(Duration.ofMillis(800));
    start("g1", recipe(300, grpo()));
    eventually("grpo trains", () -> phase("g1", 0).step() >= 20);
    temporal.newWorkflowStub(CurriculumWorkflow.class, "g1").pause(null);
    eventually("grpo is paused", () -> phase("g1", 0).state() == PhaseState.PAUSED);
    String name = Names.jobName("g1", 0, "grpo", 1);
    for (String server : List.of("vllm", "rewards")) {
      var d = kube().apps().deployments().inNamespace(NS).withName(name + "-" + server).get();
      assertEquals(0, d.getSpec().getReplicas(), server + " is scaled to zero while paused");
    }
    eventually(
        "no pod of the phase runs",
        () ->
            kube()
                .pods()
                .inNamespace(NS)
                .withLabel(Renderer.RUN_LABEL, "g1")
                .list()
                .getItems()
                .stream()
                .allMatch(
                    p ->
                        "Succeeded".equals(p.getStatus().getPhase())
                            || "Failed".equals(p.getStatus().getPhase())));

    temporal.newWorkflowStub(CurriculumWorkflow.class, "g1").resume(null);
    eventually(
        "the phase waits for its servers before its Job starts again",
        () -> {
          PhaseStatus p = phase("g1", 0);
          return p.message() != null && p.message().startsWith("waiting for servers: ");
        });
    assertEquals(Boolean.TRUE, job(name).getSpec().getSuspend(), "not started before they are");
    RunStatus done = finish("g1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(300, done.phases().get(0).step());
  }

  @Test
  void advanceEndsThePhaseAtItsCheckpointAndTheNextStartsFromIt() {
    cluster.trainerSpeed(Duration.ofMillis(40));
    start(
        "r3", recipe(400, sft(0.5), Phase.builder("more").until(1.0).framework("axolotl", "sft")));
    eventually("sft trains", () -> phase("r3", 0).step() >= 20);
    temporal.newWorkflowStub(CurriculumWorkflow.class, "r3").advance("good enough");
    RunStatus done = finish("r3");
    PhaseStatus advanced = done.phases().get(0);
    assertEquals(PhaseState.ADVANCED, advanced.state(), advanced.toString());
    assertTrue(advanced.step() >= 20 && advanced.step() < 200, advanced.toString());
    String checkpoint = advanced.artifacts().model().path();
    assertTrue(checkpoint.startsWith("r3/0-sft/checkpoint-"), checkpoint);
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    String second = Names.jobName("r3", 1, "more", 1);
    String input =
        job(second).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
            .filter(v -> v.getName().equals("SYLLABUS_INPUT_MODEL"))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertEquals("/mnt/syllabus/" + checkpoint, input, "the next phase starts from it");
  }

  @Test
  void aJobInAKueueQueueIsPausedThroughItsWorkload() {
    cluster.trainerSpeed(Duration.ofMillis(40));
    start("q1", recipe(300, sft(1.0).queue("team-a")));
    eventually("sft trains", () -> phase("q1", 0).step() >= 20);
    temporal.newWorkflowStub(CurriculumWorkflow.class, "q1").pause(null);
    eventually("sft is paused", () -> phase("q1", 0).state() == PhaseState.PAUSED);
    String name = Names.jobName("q1", 0, "sft", 1);
    var workload =
        kube()
            .genericKubernetesResources(SimulatedCluster.WORKLOADS)
            .inNamespace(NS)
            .list()
            .getItems()
            .stream()
            .filter(w -> w.getMetadata().getOwnerReferences().get(0).getName().equals(name))
            .findFirst()
            .orElseThrow();
    assertEquals(false, ((Map<?, ?>) workload.getAdditionalProperties().get("spec")).get("active"));
    assertEquals(Boolean.TRUE, job(name).getSpec().getSuspend(), "Kueue suspended the Job");

    temporal.newWorkflowStub(CurriculumWorkflow.class, "q1").resume(null);
    RunStatus done = finish("q1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(300, done.phases().get(0).step());
    assertEquals(1, cluster.createdCount("jobs"));
  }

  @Test
  void aQueuedJobThatKueueCannotAdmitWaitsForCapacityUntilTheDeadline() {
    start(
        "q2",
        recipe(
            100,
            sft(1.0)
                .queue("team-a")
                .resources("train", new WorkloadResources(16, null, null))
                .deadlines(new Deadlines(Deadlines.DEFAULTS.readyMillis(), 3_000))));
    eventually(
        "the phase waits in the queue",
        () -> {
          PhaseStatus p = phase("q2", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().startsWith("waiting for capacity: queued in Kueue queue team-a");
        });
    String message = failure("q2");
    assertTrue(message.contains("found no room in the cluster within 3s"), message);
  }

  @Test
  void serversThatAreNotReadyInTimeFailThePhaseNamingWhatItWaitedFor() {
    cluster.serverStartDelay(Duration.ofMinutes(10));
    start(
        "d1",
        recipe(100, grpo().deadlines(new Deadlines(2_000, Deadlines.DEFAULTS.capacityMillis()))));
    String message = failure("d1");
    assertTrue(message.contains("its servers were not ready within 2s (deadlines.ready)"), message);
    assertTrue(message.contains("Deployment d1-0-grpo-1-vllm (0/1 available)"), message);
    assertEquals(0, cluster.createdCount("jobs"));
    eventually("the servers are torn down", () -> servers("d1").isEmpty());
  }

  // --- failing fast --------------------------------------------------------------------------

  @Test
  void anImageThatCannotBePulledFailsThePhaseAtOnceWithoutRetrying() {
    cluster.unpullableImage("ghcr.io/example/axolotl:missing");
    start("f1", recipe(100, sft(1.0).image("ghcr.io/example/axolotl:missing").retries(3)));
    String message = failure("f1");
    assertTrue(message.contains("cannot pull image \"ghcr.io/example/axolotl:missing\""), message);
    assertTrue(message.contains("not retried"), message);
    assertEquals(1, cluster.createdCount("jobs"), "a permanent failure is not retried");
  }

  @Test
  void anInvalidImageNameIsNamed() {
    start("f2", recipe(100, sft(1.0).image("ghcr.io/Example/UPPER:1")));
    String message = failure("f2");
    assertTrue(message.contains("has an invalid image name"), message);
    assertTrue(message.contains("InvalidImageName"), message);
  }

  @Test
  void aMissingSecretIsNamed() {
    kube().secrets().inNamespace(NS).withName("hf-token").delete();
    eventually(
        "the secret is gone",
        () -> kube().secrets().inNamespace(NS).withName("hf-token").get() == null);
    start("f3", recipe(100, sft(1.0)));
    String message = failure("f3");
    assertTrue(message.contains("CreateContainerConfigError"), message);
    assertTrue(message.contains("secret \"hf-token\" not found"), message);
  }

  @Test
  void runningOutOfMemoryIsNamedWithTheLimit() {
    cluster.behaviour("ghcr.io/example/axolotl:oom", Behaviour.OOM);
    start("f4", recipe(100, sft(1.0).image("ghcr.io/example/axolotl:oom").retries(2)));
    String message = failure("f4");
    assertTrue(message.contains("ran out of memory (OOMKilled, exit code 137"), message);
    assertTrue(message.contains("its memory limit is 64Gi"), message);
    assertEquals(1, cluster.createdCount("jobs"));
  }

  @Test
  void aCrashLoopingServerFailsThePhaseBeforeItsJobIsCreated() {
    cluster.behaviour(
        pod -> "vllm".equals(pod.getMetadata().getLabels().get(Kubeconfigs.ROLE_LABEL)),
        Behaviour.CRASH_LOOP);
    start("f5", recipe(100, grpo()));
    String message = failure("f5");
    assertTrue(message.contains("servers cannot start"), message);
    assertTrue(message.contains("keeps crashing (CrashLoopBackOff"), message);
    assertEquals(0, cluster.createdCount("jobs"), "no Job while its servers cannot start");
    assertEquals(List.of(), servers("f5"), "the servers are torn down after the failure");
  }

  @Test
  void noRoomForTheGpusShowsAsWaitingForCapacityUntilTheRecipesDeadline() {
    cluster.gpuCapacity(8);
    start(
        "f6",
        recipe(
            100,
            sft(1.0)
                .resources("train", new WorkloadResources(16, null, null))
                .deadlines(new Deadlines(Deadlines.DEFAULTS.readyMillis(), 3_000))));
    eventually(
        "the phase waits for capacity",
        () -> {
          PhaseStatus p = phase("f6", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().contains("Insufficient nvidia.com/gpu");
        });
    String message = failure("f6");
    assertTrue(message.contains("found no room in the cluster within 3s"), message);
    assertTrue(message.contains("Insufficient nvidia.com/gpu"), message);
    assertNull(job(Names.jobName("f6", 0, "sft", 1)), "the Job is deleted with the failed phase");
  }

  @Test
  void aTrainerThatFailsIsRetriedFromItsCheckpointAsANewAttempt() {
    cluster.behaviour(
        pod -> "1".equals(pod.getMetadata().getLabels().get(Renderer.ATTEMPT_LABEL)),
        Behaviour.FAIL);
    start("f7", recipe(100, sft(1.0).retries(1)));
    RunStatus done = finish("f7");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(2, done.phases().get(0).attempt());
    assertEquals(2, cluster.createdCount("jobs"));
  }

  // --- teardown and restarts --------------------------------------------------------------

  @Test
  void aFailedGrpoPhaseLeavesNoServersBehindAndKeepsItsJobForTheLogs() {
    cluster.behaviour("ghcr.io/example/verifiers:broken", Behaviour.FAIL);
    start("t1", recipe(100, grpo().image("ghcr.io/example/verifiers:broken").retries(0)));
    String message = failure("t1");
    assertTrue(message.contains("failed"), message);
    assertEquals(List.of(), servers("t1"));
    Job kept = job(Names.jobName("t1", 0, "grpo", 1));
    assertNotNull(kept, "a failed Job is kept for its logs");
  }

  @Test
  void aCancelledRunDeletesItsRunningJobAndServers() {
    cluster.trainerSpeed(Duration.ofMillis(40));
    start("t2", recipe(400, grpo()));
    eventually("grpo trains", () -> phase("t2", 0).step() >= 10);
    WorkflowStub.fromTyped(temporal.newWorkflowStub(CurriculumWorkflow.class, "t2")).cancel();
    assertThrows(WorkflowFailedException.class, () -> finish("t2"));
    String name = Names.jobName("t2", 0, "grpo", 1);
    eventually("the Job is deleted", () -> job(name) == null);
    eventually("the servers are deleted", () -> servers("t2").isEmpty());
    eventually(
        "the pods are gone",
        () ->
            kube()
                .pods()
                .inNamespace(NS)
                .withLabel(Renderer.RUN_LABEL, "t2")
                .list()
                .getItems()
                .isEmpty());
  }

  @Test
  void aNewWorkerAdoptsTheRunningJobInsteadOfCreatingAnother() {
    cluster.trainerSpeed(Duration.ofMillis(40));
    start("w1", recipe(300, sft(1.0)));
    eventually("sft trains", () -> phase("w1", 0).step() >= 20);
    stopWorker();
    startWorker();
    RunStatus done = finish("w1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(300, done.phases().get(0).step());
    assertEquals(1, cluster.createdCount("jobs"), "exactly one Job was ever created");
  }

  private static dev.syllabus.workflows.job.PhaseTask task(String run, long steps) {
    return new dev.syllabus.workflows.job.PhaseTask(
        run,
        "k8s",
        0,
        sft(1.0).build(),
        new dev.syllabus.workflows.recipe.StepRange(0, steps),
        steps,
        dev.syllabus.workflows.job.Triplet.EMPTY,
        DataSpec.of("org/sft-mix"),
        100,
        0,
        null);
  }

  /**
   * Broken log streams and expired watches while a job runs: the log is read again from the last
   * line's second ({@code sinceTime}) and the lines already read are skipped, so that every line is
   * read exactly once; the informers list again and carry on.
   */
  @Test
  void brokenLogStreamsAndExpiredWatchesNeitherLoseNorRepeatALine() throws Exception {
    cluster.trainerSpeed(Duration.ofMillis(20)).logEvery(1, 25);
    var rendered = backend.render(task("c1", 300), 1);
    var activityEnv = io.temporal.testing.TestActivityEnvironment.newInstance();
    try {
      activityEnv.registerActivitiesImplementations(backend);
      dev.syllabus.workflows.PhaseActivities stub =
          activityEnv.newActivityStub(
              dev.syllabus.workflows.PhaseActivities.class,
              io.temporal.activity.ActivityOptions.newBuilder()
                  .setStartToCloseTimeout(Duration.ofMinutes(2))
                  .setHeartbeatTimeout(Duration.ofSeconds(30))
                  .build());
      var snapshot = stub.startJob(rendered);
      int cuts = 0;
      int expired = 0;
      while (!snapshot.state().hasEnded()) {
        snapshot = stub.followJob(rendered.job(), snapshot, 200);
        if (snapshot.step() > 0 && cuts + expired < 12) {
          cuts += cluster.cutLogStreams();
          expired += cluster.expireWatches();
        }
      }
      assertEquals(dev.syllabus.workflows.job.JobState.SUCCEEDED, snapshot.state());
      assertTrue(cuts >= 3, "log streams were cut mid-job: " + cuts);
      assertTrue(expired >= 3, "watches expired mid-job: " + expired);
      String pod =
          kube()
              .pods()
              .inNamespace(NS)
              .withLabel("job-name", rendered.job().name())
              .list()
              .getItems()
              .get(0)
              .getMetadata()
              .getName();
      String log = cluster.podLog(pod);
      // Lines end with \n; tqdm's \r redraws stay inside a line, as in a real container log.
      long lines = log.chars().filter(c -> c == '\n').count();
      assertEquals(lines, snapshot.logOffset(), "every line read exactly once");
      assertEquals(300, snapshot.step());
      assertEquals(lastLoss(log), snapshot.loss());
    } finally {
      activityEnv.close();
    }
  }

  private static Double lastLoss(String log) {
    Double loss = null;
    var m = java.util.regex.Pattern.compile("'(?:train_)?loss': '?([0-9.eE+-]+)'?").matcher(log);
    while (m.find()) {
      loss = Double.parseDouble(m.group(1));
    }
    return loss;
  }

  @Test
  void creatingTwiceAdoptsButAForeignObjectOfTheSameNameIsRefused() {
    var task = task("a1", 50);
    var rendered = backend.render(task, 1);
    backend.startJob(rendered);
    backend.startJob(rendered); // a retried activity
    assertEquals(1, cluster.createdCount("jobs"));

    kube()
        .configMaps()
        .inNamespace(NS)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName(Names.jobName("a1", 0, "sft", 2) + "-syllabus-config")
                .endMetadata()
                .build())
        .create();
    io.temporal.failure.ApplicationFailure refused =
        assertThrows(
            io.temporal.failure.ApplicationFailure.class,
            () -> backend.startJob(backend.render(task, 2)));
    assertEquals(
        "ConfigMap a1-0-sft-2-syllabus-config already exists in namespace ml and was not made by"
            + " Syllabus for a1-0-sft-2 (its labels: none); delete it or start the run with"
            + " another id",
        refused.getOriginalMessage());
    assertEquals(1, cluster.createdCount("jobs"), "nothing more was created");
  }

  // --- API load -----------------------------------------------------------------------------

  @Test
  void theRequestsOfAPhaseDoNotGrowWithHowLongItsJobRuns() {
    start("warm", recipe(10, sft(1.0)));
    finish("warm"); // the informers' first list and watch
    String shortRun = requestsOf("short", 20);
    String longRun = requestsOf("long", 400);
    System.out.println("API requests per phase, 20 steps: " + shortRun);
    System.out.println("API requests per phase, 400 steps: " + longRun);
    assertEquals(shortRun, longRun);
  }

  private String requestsOf(String id, long steps) {
    var before = cluster.requests().snapshot();
    start(id, recipe(steps, sft(1.0)));
    assertEquals(RunState.COMPLETED, finish(id).state());
    return cluster.requests().minus(before).toString();
  }

  // --- no secrets in history ----------------------------------------------------------------

  @Test
  void secretValuesNeverReachTheManifestsOrTheHistory() {
    start("s1", recipe(50, sft(1.0)));
    finish("s1");
    for (String workflowId : List.of("s1", Names.phaseWorkflowId("s1", 0, "sft"))) {
      History history = temporal.fetchHistory(workflowId).getHistory();
      assertFalse(
          history.toString().contains("hf_s3cr3t_value_never_in_history"),
          "a Secret's value in the history of " + workflowId);
    }
    assertTrue(
        temporal
            .fetchHistory(Names.phaseWorkflowId("s1", 0, "sft"))
            .getHistory()
            .toString()
            .contains("hf-token"),
        "the rendered manifests refer to the Secret by name");
  }
}
