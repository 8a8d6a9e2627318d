package dev.syllabus.activities.kubernetes.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The simulated cluster, driven with a plain fabric8 client as code under test would drive it. */
@Timeout(60)
class SimulatedClusterTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String IMAGE = "ghcr.io/example/trainer:1";

  @TempDir Path artifacts;
  private SimulatedCluster cluster;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    cluster = SimulatedCluster.start("ml", artifacts);
    client = cluster.client();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aJobTrainsToCompleteLeavingCheckpointsAndLossDicts() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    Watch watch =
        client
            .batch()
            .v1()
            .jobs()
            .withName("sft")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Job job) {
                    seen.add(action + " " + job.getMetadata().getResourceVersion());
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    client.batch().v1().jobs().resource(trainingJob("sft", 0, 30)).create();

    Job job = awaitJobCondition("sft", "Complete");
    watch.close();

    assertEquals(1, job.getStatus().getSucceeded());
    assertNull(job.getStatus().getActive());
    assertEquals(
        List.of("SuccessCriteriaMet", "Complete"),
        job.getStatus().getConditions().stream().map(JobCondition::getType).toList());
    assertEquals("CompletionsReached", job.getStatus().getConditions().get(1).getReason());
    assertNotNull(job.getStatus().getCompletionTime());
    assertNotNull(job.getStatus().getStartTime());
    assertTrue(
        seen.stream().anyMatch(e -> e.startsWith("MODIFIED")),
        "status changes are MODIFIED events");
    List<Long> versions = seen.stream().map(e -> Long.parseLong(e.split(" ")[1])).toList();
    assertEquals(versions.stream().sorted().toList(), versions, "resourceVersion only grows");

    Pod pod = onlyPod("sft");
    assertEquals("Succeeded", pod.getStatus().getPhase());
    assertEquals("sft", pod.getMetadata().getLabels().get("batch.kubernetes.io/job-name"));
    assertEquals("sft", pod.getMetadata().getLabels().get("job-name"));
    assertTrue(pod.getMetadata().getOwnerReferences().get(0).getController());
    assertTrue(
        pod.getMetadata().getFinalizers() == null || pod.getMetadata().getFinalizers().isEmpty());
    assertEquals("Completed", terminated(pod).getTerminated().getReason());

    String log = cluster.podLog(pod.getMetadata().getName());
    assertTrue(log.contains("{'loss': "), log);
    assertTrue(log.contains("{'loss': '"), "quoted floats too: " + log);
    assertTrue(log.contains("'learning_rate': "), log);
    assertTrue(log.contains("{'eval_loss': "), log);
    assertTrue(log.contains("| 30/30 ["), "tqdm counters: " + log);
    Path output = artifacts.resolve("run-1/0-sft");
    for (int step : List.of(10, 20, 30)) {
      Path checkpoint = output.resolve("checkpoint-" + step);
      assertTrue(
          Files.isRegularFile(checkpoint.resolve("model.safetensors")), checkpoint.toString());
      assertTrue(Files.isRegularFile(checkpoint.resolve("optimizer.pt")));
      assertTrue(
          Files.readString(checkpoint.resolve("trainer_state.json"))
              .contains("\"global_step\" : " + step));
    }
    try (Stream<Path> children = Files.list(output)) {
      assertTrue(children.noneMatch(p -> p.getFileName().toString().startsWith("tmp-")));
    }
    assertTrue(losses(log).get(0) > losses(log).get(losses(log).size() - 1), "the loss falls");
  }

  @Test
  void suspendingSavesACheckpointAndResumingCarriesOnFromIt() {
    cluster.trainerSpeed(Duration.ofMillis(20));
    client.batch().v1().jobs().resource(trainingJob("long", 0, 400)).create();
    String first =
        cluster.awaitValue(
            () -> {
              Pod pod = onlyPod("long");
              return pod != null
                      && cluster
                          .podLog(pod.getMetadata().getName())
                          .contains("Saving model checkpoint")
                  ? pod.getMetadata().getName()
                  : null;
            },
            WAIT);

    setSuspend("long", true);
    Job suspended = awaitJobCondition("long", "Suspended");
    assertEquals("JobSuspended", condition(suspended, "Suspended").getReason());
    cluster.await(() -> pods("long").isEmpty(), WAIT);
    int saved = latestCheckpoint(artifacts.resolve("run-1/0-sft"));
    assertTrue(saved > 0 && saved < 400, "checkpoint-" + saved);
    assertNull(client.batch().v1().jobs().withName("long").get().getStatus().getSucceeded());

    cluster.trainerSpeed(Duration.ofMillis(2));
    setSuspend("long", false);
    Job resumed =
        cluster.awaitValue(
            () -> {
              Job job = client.batch().v1().jobs().withName("long").get();
              JobCondition c = condition(job, "Suspended");
              return c != null && "False".equals(c.getStatus()) ? job : null;
            },
            WAIT);
    assertEquals("JobResumed", condition(resumed, "Suspended").getReason());
    Job done = awaitJobCondition("long", "Complete");
    assertEquals(1, done.getStatus().getSucceeded());
    String second = onlyPod("long").getMetadata().getName();
    assertFalse(second.equals(first), "a fresh pod");
    assertTrue(
        cluster.podLog(second).contains("Continuing training from global step " + saved),
        cluster.podLog(second));
  }

  @Test
  void aSuspendedPodsGracefulExitLogsTheSigterm() {
    cluster.trainerSpeed(Duration.ofMillis(20));
    client.batch().v1().jobs().resource(trainingJob("sig", 0, 400)).create();
    Pod pod = cluster.awaitValue(() -> running(onlyPod("sig")), WAIT);
    List<String> log = new CopyOnWriteArrayList<>();
    LogWatch follow =
        client.pods().withName(pod.getMetadata().getName()).watchLog(new LineSink(log));
    cluster.await(() -> log.size() > 3, WAIT);
    setSuspend("sig", true);
    follow.onClose().toCompletableFuture().join();
    assertTrue(
        log.stream().anyMatch(l -> l.contains("received SIGTERM at step")), String.join("\n", log));
  }

  @Test
  void aRealClusterCountsTheSuspendedPodsCleanExitAndCompletesTheJob() {
    cluster.suspendCountsStoppedPods(true).trainerSpeed(Duration.ofMillis(20));
    client.batch().v1().jobs().resource(trainingJob("real", 0, 400)).create();
    cluster.awaitValue(() -> running(onlyPod("real")), WAIT);
    setSuspend("real", true);
    Job job = awaitJobCondition("real", "Complete");
    assertEquals(1, job.getStatus().getSucceeded());
    assertEquals("True", condition(job, "Suspended").getStatus());
  }

  @Test
  void aContainerThatIgnoresSigtermIsKilledWhenTheGracePeriodEnds() {
    cluster.behaviour(IMAGE, Behaviour.HANG).gracePeriod(Duration.ofMillis(200));
    List<ContainerState> states = new CopyOnWriteArrayList<>();
    client
        .pods()
        .watch(
            new Watcher<Pod>() {
              @Override
              public void eventReceived(Action action, Pod pod) {
                if (state(pod) != null) {
                  states.add(state(pod));
                }
              }

              @Override
              public void onClose(WatcherException cause) {}
            });
    client.batch().v1().jobs().resource(trainingJob("stubborn", 0, 10)).create();
    Pod pod = cluster.awaitValue(() -> running(onlyPod("stubborn")), WAIT);
    client.pods().withName(pod.getMetadata().getName()).delete();
    ContainerState killed =
        cluster.awaitValue(
            () -> states.stream().filter(s -> s.getTerminated() != null).findFirst().orElse(null),
            WAIT);
    assertEquals(137, killed.getTerminated().getExitCode());
    assertEquals("Error", killed.getTerminated().getReason());
  }

  @Test
  void serverSideApplyCreatesThenMerges() {
    var map =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName("applied")
            .endMetadata()
            .addToData("a", "1")
            .build();
    client.configMaps().resource(map).serverSideApply();
    map.getData().put("b", "2");
    client.configMaps().resource(map).serverSideApply();
    assertEquals(
        Map.of("a", "1", "b", "2"), client.configMaps().withName("applied").get().getData());
    assertEquals(1, cluster.createdCount("configmaps"));
    assertEquals(2, cluster.requests().count("patch", "configmaps"));
  }

  @Test
  void theApiRefusesInvalidNamesAndLabelsAndNamesGenerateName() {
    Job tooLong = trainingJob("x".repeat(64), 0, 10);
    KubernetesClientException refused =
        assertThrows(
            KubernetesClientException.class,
            () -> client.batch().v1().jobs().resource(tooLong).create());
    assertEquals(422, refused.getCode());
    assertTrue(
        refused
            .getMessage()
            .contains(
                "metadata.name: Invalid value: \""
                    + "x".repeat(64)
                    + "\": must be no more than 63 characters"),
        refused.getMessage());
    Job badLabel = trainingJob("fine", 0, 10);
    badLabel.getMetadata().getLabels().put("syllabus.dev/phase", "SFT warm-up");
    refused =
        assertThrows(
            KubernetesClientException.class,
            () -> client.batch().v1().jobs().resource(badLabel).create());
    assertTrue(refused.getMessage().startsWith("Failure executing: POST"), refused.getMessage());
    assertTrue(
        refused.getMessage().contains("Job.batch \"fine\" is invalid: metadata.labels"),
        refused.getMessage());

    var generated =
        client
            .configMaps()
            .resource(
                new ConfigMapBuilder()
                    .withNewMetadata()
                    .withGenerateName("files-")
                    .endMetadata()
                    .build())
            .create();
    assertTrue(
        generated.getMetadata().getName().matches("files-[a-z0-9]{5}"),
        generated.getMetadata().getName());
  }

  @Test
  void aJobsTemplateCannotChangeOnceItStarted() {
    client.batch().v1().jobs().resource(trainingJob("fixed", 0, 10)).create();
    Job changed = trainingJob("fixed", 0, 20);
    KubernetesClientException refused =
        assertThrows(
            KubernetesClientException.class,
            () -> client.batch().v1().jobs().resource(changed).update());
    assertEquals(422, refused.getCode());
    assertTrue(
        refused.getMessage().contains("spec.template: Invalid value: "), refused.getMessage());
    assertTrue(refused.getMessage().contains("field is immutable"), refused.getMessage());
    setSuspend("fixed", true);
    assertTrue(client.batch().v1().jobs().withName("fixed").get().getSpec().getSuspend());
  }

  @Test
  void anUnpullableImageWaitsInErrImagePullThenImagePullBackOff() {
    cluster.unpullableImage("ghcr.io/bad/image:1");
    client
        .batch()
        .v1()
        .jobs()
        .resource(withImage(trainingJob("bad", 0, 10), "ghcr.io/bad/image:1"))
        .create();
    Set<String> reasons = ConcurrentHashMap.newKeySet();
    cluster.await(
        () -> {
          Pod pod = onlyPod("bad");
          ContainerState state = pod == null ? null : state(pod);
          if (state != null && state.getWaiting() != null) {
            reasons.add(state.getWaiting().getReason());
            assertTrue(
                state.getWaiting().getReason().equals("ContainerCreating")
                    || state.getWaiting().getMessage().contains("ghcr.io/bad/image:1"),
                state.getWaiting().getMessage());
          }
          return reasons.containsAll(List.of("ErrImagePull", "ImagePullBackOff"));
        },
        WAIT);
    assertEquals("Pending", onlyPod("bad").getStatus().getPhase());
    KubernetesClientException refused =
        assertThrows(
            KubernetesClientException.class,
            () ->
                client
                    .pods()
                    .withName(onlyPod("bad").getMetadata().getName())
                    .withReadyWaitTimeout(0)
                    .getLog());
    assertEquals(400, refused.getCode());
    assertTrue(
        refused.getMessage().contains("is waiting to start: image can't be pulled"),
        refused.getMessage());
  }

  @Test
  void anInvalidImageReferenceIsInvalidImageName() {
    client
        .batch()
        .v1()
        .jobs()
        .resource(withImage(trainingJob("invalid", 0, 10), "ghcr.io/Example/Trainer:1"))
        .create();
    ContainerState state =
        cluster.awaitValue(() -> waitingFor(onlyPod("invalid"), "InvalidImageName"), WAIT);
    assertTrue(state.getWaiting().getMessage().contains("invalid reference format"));
  }

  @Test
  void aMissingSecretIsCreateContainerConfigErrorUntilItExists() {
    Job job = trainingJob("secretive", 0, 10);
    job.getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .getEnv()
        .add(
            new io.fabric8.kubernetes.api.model.EnvVarBuilder()
                .withName("HF_TOKEN")
                .withNewValueFrom()
                .withNewSecretKeyRef("token", "hf-token", false)
                .endValueFrom()
                .build());
    client.batch().v1().jobs().resource(job).create();
    ContainerState state =
        cluster.awaitValue(
            () -> waitingFor(onlyPod("secretive"), "CreateContainerConfigError"), WAIT);
    assertEquals("secret \"hf-token\" not found", state.getWaiting().getMessage());

    client
        .secrets()
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("hf-token")
                .endMetadata()
                .addToStringData("token", "x")
                .build())
        .create();
    awaitJobCondition("secretive", "Complete");
  }

  @Test
  void anOutOfMemoryKillFailsTheJobPastItsBackoffLimit() {
    cluster.behaviour(IMAGE, Behaviour.OOM);
    client.batch().v1().jobs().resource(trainingJob("oom", 0, 100)).create();
    Job failed = awaitJobCondition("oom", "Failed");
    assertEquals(
        List.of("FailureTarget", "Failed"),
        failed.getStatus().getConditions().stream().map(JobCondition::getType).toList());
    assertEquals("BackoffLimitExceeded", condition(failed, "Failed").getReason());
    assertEquals(
        "Job has reached the specified backoff limit", condition(failed, "Failed").getMessage());
    assertEquals(1, failed.getStatus().getFailed());
    ContainerState state = terminated(onlyPod("oom"));
    assertEquals("OOMKilled", state.getTerminated().getReason());
    assertEquals(137, state.getTerminated().getExitCode());
  }

  @Test
  void aFailingTrainerIsRetriedUntilTheBackoffLimit() {
    cluster.behaviour(pod -> pod.getMetadata().getName().startsWith("flaky"), Behaviour.FAIL);
    Job job = trainingJob("flaky", 0, 100);
    job.getSpec().setBackoffLimit(1);
    client.batch().v1().jobs().resource(job).create();
    Job failed = awaitJobCondition("flaky", "Failed");
    assertEquals(2, failed.getStatus().getFailed());
    List<Pod> pods = pods("flaky");
    assertEquals(2, pods.size());
    for (Pod pod : pods) {
      assertEquals("Failed", pod.getStatus().getPhase());
      assertEquals("Error", terminated(pod).getTerminated().getReason());
      assertEquals(1, terminated(pod).getTerminated().getExitCode());
      assertTrue(
          cluster
              .podLog(pod.getMetadata().getName())
              .contains("Traceback (most recent call last):"));
    }
  }

  @Test
  void aTrainerWhoseInputModelIsMissingFailsWithATraceback() {
    Job job = trainingJob("orphaned-input", 0, 10);
    job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getName().equals("SYLLABUS_INPUT_MODEL"))
        .forEach(e -> e.setValue("/mnt/syllabus/run-0/0-sft/checkpoint-30"));
    client.batch().v1().jobs().resource(job).create();
    awaitJobCondition("orphaned-input", "Failed");
    String log = cluster.podLog(onlyPod("orphaned-input").getMetadata().getName());
    assertTrue(
        log.contains(
            "OSError: Can't load the checkpoint at '/mnt/syllabus/run-0/0-sft/checkpoint-30'"),
        log);
  }

  @Test
  void aCrashingContainerLoopsInCrashLoopBackOff() {
    cluster.behaviour("ghcr.io/example/crashy:1", Behaviour.CRASH_LOOP);
    client
        .pods()
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("crashy")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("main")
                .withImage("ghcr.io/example/crashy:1")
                .endContainer()
                .endSpec()
                .build())
        .create();
    ContainerStatus status =
        cluster.awaitValue(
            () -> {
              Pod pod = client.pods().withName("crashy").get();
              ContainerStatus s =
                  pod.getStatus() == null || pod.getStatus().getContainerStatuses().isEmpty()
                      ? null
                      : pod.getStatus().getContainerStatuses().get(0);
              return s != null
                      && s.getRestartCount() >= 2
                      && s.getState().getWaiting() != null
                      && "CrashLoopBackOff".equals(s.getState().getWaiting().getReason())
                  ? s
                  : null;
            },
            WAIT);
    assertEquals(1, status.getLastState().getTerminated().getExitCode());
    assertTrue(status.getState().getWaiting().getMessage().startsWith("back-off "));
    assertEquals("Running", client.pods().withName("crashy").get().getStatus().getPhase());
  }

  @Test
  void aPodThatDoesNotFitWaitsUnschedulableUntilGpusFree() {
    cluster.trainerSpeed(Duration.ofMillis(20));
    client.batch().v1().jobs().resource(withGpus(trainingJob("big", 0, 400), 6)).create();
    cluster.awaitValue(() -> running(onlyPod("big")), WAIT);
    client.batch().v1().jobs().resource(withGpus(trainingJob("second", 0, 10), 4)).create();
    PodCondition scheduled =
        cluster.awaitValue(
            () -> {
              Pod pod = onlyPod("second");
              return pod == null || pod.getStatus() == null
                  ? null
                  : pod.getStatus().getConditions().stream()
                      .filter(
                          c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()))
                      .findFirst()
                      .orElse(null);
            },
            WAIT);
    assertEquals("Unschedulable", scheduled.getReason());
    assertEquals(
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are"
            + " available: 1 No preemption victims found for incoming pod.",
        scheduled.getMessage());
    assertEquals("Pending", onlyPod("second").getStatus().getPhase());

    setSuspend("big", true);
    awaitJobCondition("second", "Complete");
  }

  @Test
  void aDeploymentBehindAServiceBecomesAvailableWithReadyEndpoints() {
    cluster.serverStartDelay(Duration.ofMillis(300));
    Map<String, String> labels = Map.of("app", "vllm");
    Deployment deployment =
        new DeploymentBuilder()
            .withNewMetadata()
            .withName("vllm")
            .endMetadata()
            .withNewSpec()
            .withReplicas(1)
            .withNewSelector()
            .withMatchLabels(labels)
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("vllm")
            .withImage("vllm/vllm-openai:v0.6.3")
            .addNewPort()
            .withName("http")
            .withContainerPort(8000)
            .endPort()
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    client.apps().deployments().resource(deployment).create();
    client
        .services()
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("vllm")
                .endMetadata()
                .withNewSpec()
                .withSelector(labels)
                .addNewPort()
                .withName("http")
                .withPort(80)
                .withTargetPort(new IntOrString("http"))
                .endPort()
                .endSpec()
                .build())
        .create();

    Deployment available =
        cluster.awaitValue(
            () -> {
              Deployment d = client.apps().deployments().withName("vllm").get();
              return d.getStatus() != null
                      && d.getStatus().getConditions().stream()
                          .anyMatch(
                              c -> "Available".equals(c.getType()) && "True".equals(c.getStatus()))
                  ? d
                  : null;
            },
            WAIT);
    assertEquals(1, available.getStatus().getReadyReplicas());
    assertEquals(1, available.getStatus().getAvailableReplicas());
    assertEquals(1, available.getStatus().getUpdatedReplicas());
    EndpointSlice slice =
        cluster.awaitValue(
            () ->
                slicesOf("vllm").stream()
                    .filter(
                        s ->
                            s.getEndpoints().size() == 1
                                && s.getEndpoints().get(0).getConditions().getReady())
                    .findFirst()
                    .orElse(null),
            WAIT);
    assertEquals(8000, slice.getPorts().get(0).getPort());
    Pod pod = client.pods().withLabel("app", "vllm").list().getItems().get(0);
    assertTrue(pod.getMetadata().getName().startsWith("vllm-"));
    assertEquals(pod.getStatus().getPodIP(), slice.getEndpoints().get(0).getAddresses().get(0));
    assertTrue(
        cluster
            .podLog(pod.getMetadata().getName())
            .contains("Uvicorn running on http://0.0.0.0:8000"));

    client.apps().deployments().withName("vllm").delete();
    cluster.await(() -> client.pods().withLabel("app", "vllm").list().getItems().isEmpty(), WAIT);
    cluster.await(() -> slicesOf("vllm").get(0).getEndpoints().isEmpty(), WAIT);
  }

  @Test
  void kueueAdmitsAQueuedJobEvictsItWhenDeactivatedAndAdmitsItAgain() {
    cluster.trainerSpeed(Duration.ofMillis(20));
    Job job = withGpus(trainingJob("queued", 0, 400), 4);
    job.getMetadata().getLabels().put("kueue.x-k8s.io/queue-name", "team-a");
    job.getSpec().setSuspend(true);
    client.batch().v1().jobs().resource(job).create();

    GenericKubernetesResource workload =
        cluster.awaitValue(() -> workloadWith("Admitted", "True"), WAIT);
    assertTrue(
        workload.getMetadata().getName().startsWith("job-queued-"),
        workload.getMetadata().getName());
    assertEquals(
        client.batch().v1().jobs().withName("queued").get().getMetadata().getUid(),
        workload.getMetadata().getLabels().get("kueue.x-k8s.io/job-uid"));
    cluster.awaitValue(() -> running(onlyPod("queued")), WAIT);

    workloads()
        .withName(workload.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"active\":false}}");
    GenericKubernetesResource evicted =
        cluster.awaitValue(() -> workloadWith("QuotaReserved", "False"), WAIT);
    assertEquals("InactiveWorkload", conditionOf(evicted, "Evicted").get("reason"));
    assertEquals("True", conditionOf(evicted, "Evicted").get("status"));
    assertEquals("False", conditionOf(evicted, "Admitted").get("status"));
    assertTrue(client.batch().v1().jobs().withName("queued").get().getSpec().getSuspend());
    assertTrue(pods("queued").isEmpty());

    cluster.trainerSpeed(Duration.ofMillis(2));
    workloads()
        .withName(workload.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"active\":true}}");
    awaitJobCondition("queued", "Complete");
    cluster.awaitValue(() -> workloadWith("Finished", "True"), WAIT);
  }

  @Test
  void kueueExplainsAWorkloadThatCanNeverFit() {
    Job job = withGpus(trainingJob("huge", 0, 10), 16);
    job.getMetadata().getLabels().put("kueue.x-k8s.io/queue-name", "team-a");
    job.getSpec().setSuspend(true);
    client.batch().v1().jobs().resource(job).create();
    GenericKubernetesResource pending =
        cluster.awaitValue(() -> workloadWith("QuotaReserved", "False"), WAIT);
    assertEquals("Pending", conditionOf(pending, "QuotaReserved").get("reason"));
    assertEquals(
        "couldn't assign flavors to pod set main: insufficient quota for nvidia.com/gpu in flavor"
            + " default-flavor, request > maximum capacity (16 > 8)",
        conditionOf(pending, "QuotaReserved").get("message"));
    assertTrue(client.batch().v1().jobs().withName("huge").get().getSpec().getSuspend());
  }

  @Test
  void aFollowedLogWithTimestampsCarriesOnAfterACutWhenResumedSinceTheLastTime() throws Exception {
    cluster.trainerSpeed(Duration.ofMillis(15));
    client.batch().v1().jobs().resource(trainingJob("follow", 0, 120)).create();
    String pod = cluster.awaitValue(() -> running(onlyPod("follow")), WAIT).getMetadata().getName();

    List<String> first = new CopyOnWriteArrayList<>();
    LogWatch cut = client.pods().withName(pod).usingTimestamps().watchLog(new LineSink(first));
    cluster.await(() -> first.size() >= 10, WAIT);
    assertEquals(1, cluster.cutLogStreams());
    cut.onClose().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertFalse(onlyPod("follow").getStatus().getPhase().equals("Succeeded"), "cut mid-run");

    String last = first.get(first.size() - 1);
    String lastTime = last.substring(0, last.indexOf(' '));
    List<String> second = new CopyOnWriteArrayList<>();
    LogWatch resumed =
        client
            .pods()
            .withName(pod)
            .usingTimestamps()
            .sinceTime(lastTime)
            .watchLog(new LineSink(second));
    resumed.onClose().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertTrue(
        second.get(0).substring(0, 19).equals(lastTime.substring(0, 19)),
        "the API sends the whole second again");

    List<String> merged = new ArrayList<>(first);
    second.stream()
        .filter(l -> l.substring(0, l.indexOf(' ')).compareTo(lastTime) > 0)
        .forEach(merged::add);
    List<String> texts = merged.stream().map(l -> l.substring(l.indexOf(' ') + 1)).toList();
    assertEquals(List.of(cluster.podLog(pod).split("\n", -1)).subList(0, texts.size()), texts);
    assertTrue(texts.get(texts.size() - 1).contains("120/120"), texts.get(texts.size() - 1));
  }

  @Test
  void expiredWatchesEndWith410AndInformersListAgain() throws Exception {
    AtomicReference<WatcherException> closed = new AtomicReference<>();
    client
        .batch()
        .v1()
        .jobs()
        .watch(
            new Watcher<Job>() {
              @Override
              public void eventReceived(Action action, Job job) {}

              @Override
              public void onClose(WatcherException cause) {
                closed.set(cause);
              }
            });
    Set<String> added = ConcurrentHashMap.newKeySet();
    SharedIndexInformer<Job> informer =
        client
            .batch()
            .v1()
            .jobs()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Job job) {
                    added.add(job.getMetadata().getName());
                  }

                  @Override
                  public void onUpdate(Job before, Job after) {}

                  @Override
                  public void onDelete(Job job, boolean unknown) {}
                });
    int lists = cluster.requests().count("list", "jobs");
    cluster.await(() -> cluster.openWatches() == 2, WAIT);
    assertEquals(2, cluster.expireWatches());

    cluster.await(() -> closed.get() != null, WAIT);
    assertTrue(closed.get().isHttpGone(), closed.get().toString());
    cluster.await(() -> cluster.requests().count("list", "jobs") > lists, WAIT);
    client.batch().v1().jobs().resource(trainingJob("after", 0, 5)).create();
    cluster.await(() -> added.contains("after"), WAIT);
    informer.close();
  }

  @Test
  void requestsAreCountedByVerbAndResourceWithoutTheSimulators() {
    RequestCounts before = cluster.requests().snapshot();
    client
        .configMaps()
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("c")
                .endMetadata()
                .addToData("k", "v")
                .build())
        .create();
    client.configMaps().withName("c").get();
    client.configMaps().list();
    client
        .configMaps()
        .withName("c")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"k\":\"w\"}}");
    client.configMaps().withName("c").delete();
    RequestCounts crud = cluster.requests().snapshot().minus(before);
    assertEquals(1, crud.count("create", "configmaps"));
    assertEquals(2, crud.count("get", "configmaps"), "fabric8's patch reads the object first");
    assertEquals(1, crud.count("list", "configmaps"));
    assertEquals(1, crud.count("patch", "configmaps"));
    assertEquals(1, crud.count("delete", "configmaps"));
    assertEquals(6, crud.total(), crud.toString());
    assertEquals(1, cluster.createdCount("configmaps"));

    RequestCounts beforeJob = cluster.requests().snapshot();
    client.batch().v1().jobs().resource(trainingJob("counted", 0, 20)).create();
    Job done = awaitJobCondition("counted", "Complete");
    String pod = onlyPod("counted").getMetadata().getName();
    assertTrue(client.pods().withName(pod).getLog().contains("20/20"));
    RequestCounts job = cluster.requests().snapshot().minus(beforeJob);
    assertEquals(1, job.count("create", "jobs"));
    assertEquals(1, job.count("get", "pods/log"));
    assertEquals(0, job.count("create", "pods"), "the simulator's own requests are not counted");
    assertEquals(0, job.count("update", "jobs/status"));
    assertEquals(0, cluster.createdCount("pods"));
    assertEquals(1, cluster.createdCount("jobs"));
    assertNotNull(done);
    assertTrue(job.toString().contains("pods/log"), job.toString());
  }

  @Test
  void deletingAJobDeletesItsPodsButOrphanLeavesThem() {
    cluster.trainerSpeed(Duration.ofMillis(20));
    client.batch().v1().jobs().resource(trainingJob("doomed", 0, 400)).create();
    client.batch().v1().jobs().resource(trainingJob("kept", 0, 400)).create();
    cluster.awaitValue(() -> running(onlyPod("doomed")), WAIT);
    Pod kept = cluster.awaitValue(() -> running(onlyPod("kept")), WAIT);

    client.batch().v1().jobs().withName("doomed").delete();
    client
        .batch()
        .v1()
        .jobs()
        .withName("kept")
        .withPropagationPolicy(DeletionPropagation.ORPHAN)
        .delete();

    cluster.await(() -> pods("doomed").isEmpty(), WAIT);
    Pod orphan =
        cluster.awaitValue(
            () -> {
              Pod p = client.pods().withName(kept.getMetadata().getName()).get();
              return p != null
                      && (p.getMetadata().getOwnerReferences() == null
                          || p.getMetadata().getOwnerReferences().isEmpty())
                  ? p
                  : null;
            },
            WAIT);
    assertNull(orphan.getMetadata().getDeletionTimestamp());
    assertEquals("Running", orphan.getStatus().getPhase());
  }

  // --- helpers
  // -------------------------------------------------------------------------------------

  /** A Job in the shape Syllabus renders: the contract's environment, the artifacts volume. */
  static Job trainingJob(String name, int start, int end) {
    return new JobBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("syllabus.dev/role", "train")
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(0)
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("syllabus.dev/role", "train")
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .addNewContainer()
        .withName("trainer")
        .withImage(IMAGE)
        .addNewEnv()
        .withName("SYLLABUS_RUN_ID")
        .withValue("run-1")
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_PHASE")
        .withValue("sft")
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_STEP_START")
        .withValue(String.valueOf(start))
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_STEP_END")
        .withValue(String.valueOf(end))
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_OUTPUT_DIR")
        .withValue("/mnt/syllabus/$(SYLLABUS_RUN_ID)/0-sft")
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_INPUT_MODEL")
        .withValue("Qwen/Qwen2.5-0.5B")
        .endEnv()
        .addNewVolumeMount()
        .withName("syllabus-artifacts")
        .withMountPath("/mnt/syllabus")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("syllabus-artifacts")
        .withNewPersistentVolumeClaim()
        .withClaimName("syllabus-artifacts")
        .endPersistentVolumeClaim()
        .endVolume()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private List<EndpointSlice> slicesOf(String service) {
    return client
        .discovery()
        .v1()
        .endpointSlices()
        .withLabel("kubernetes.io/service-name", service)
        .list()
        .getItems();
  }

  private static Job withImage(Job job, String image) {
    job.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
    return job;
  }

  private static Job withGpus(Job job, int gpus) {
    job.getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setResources(
            new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                .addToLimits("nvidia.com/gpu", new Quantity(String.valueOf(gpus)))
                .build());
    return job;
  }

  private void setSuspend(String job, boolean suspend) {
    client
        .batch()
        .v1()
        .jobs()
        .withName(job)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
  }

  private Job awaitJobCondition(String name, String type) {
    return cluster.awaitValue(
        () -> {
          Job job = client.batch().v1().jobs().withName(name).get();
          return JobController.isTrue(job.getStatus(), type) ? job : null;
        },
        WAIT);
  }

  private static JobCondition condition(Job job, String type) {
    return job.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private List<Pod> pods(String job) {
    return client.pods().withLabel("batch.kubernetes.io/job-name", job).list().getItems();
  }

  /** The Job's pod that has not ended, else the last one listed, else null. */
  private Pod onlyPod(String job) {
    List<Pod> pods = pods(job);
    return pods.stream()
        .filter(p -> !Kube.terminal(p))
        .findFirst()
        .orElse(pods.isEmpty() ? null : pods.get(pods.size() - 1));
  }

  private static Pod running(Pod pod) {
    return pod != null && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
        ? pod
        : null;
  }

  private static ContainerState state(Pod pod) {
    return pod.getStatus() == null || pod.getStatus().getContainerStatuses().isEmpty()
        ? null
        : pod.getStatus().getContainerStatuses().get(0).getState();
  }

  private static ContainerState terminated(Pod pod) {
    return state(pod);
  }

  private static ContainerState waitingFor(Pod pod, String reason) {
    ContainerState state = pod == null ? null : state(pod);
    return state != null
            && state.getWaiting() != null
            && reason.equals(state.getWaiting().getReason())
        ? state
        : null;
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          GenericKubernetesResource,
          io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
          io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>>
      workloads() {
    return client.genericKubernetesResources(Kueue.WORKLOADS).inNamespace("ml");
  }

  private GenericKubernetesResource workloadWith(String type, String status) {
    return workloads().list().getItems().stream()
        .filter(
            w -> conditionOf(w, type) != null && status.equals(conditionOf(w, type).get("status")))
        .findFirst()
        .orElse(null);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> conditionOf(GenericKubernetesResource workload, String type) {
    Object status = workload.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> s) || !(s.get("conditions") instanceof List<?> conditions)) {
      return null;
    }
    return conditions.stream()
        .map(c -> (Map<String, Object>) c)
        .filter(c -> type.equals(c.get("type")))
        .findFirst()
        .orElse(null);
  }

  private static int latestCheckpoint(Path output) {
    try (Stream<Path> children = Files.list(output)) {
      return children
          .map(p -> p.getFileName().toString())
          .filter(n -> n.matches("checkpoint-\\d+"))
          .mapToInt(n -> Integer.parseInt(n.substring("checkpoint-".length())))
          .max()
          .orElse(0);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<Double> losses(String log) {
    List<Double> losses = new ArrayList<>();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\\{'loss': '?([0-9.]+)'?").matcher(log);
    while (m.find()) {
      losses.add(Double.parseDouble(m.group(1)));
    }
    return losses;
  }

  /** Collects a followed log's complete lines. */
  private static final class LineSink extends java.io.OutputStream {
    private final List<String> lines;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    LineSink(List<String> lines) {
      this.lines = lines;
    }

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        lines.add(partial.toString(StandardCharsets.UTF_8));
        partial.reset();
      } else {
        partial.write(b);
      }
    }
  }
}
