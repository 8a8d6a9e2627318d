package dev.syllabus.activities.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.Progress;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the Kubernetes backend makes of a Job, its pods and its Kueue Workload, on objects shaped as
 * the API server returns them. The view is pure, so each case is a fixture and an answer.
 */
class JobViewTest {
  private static final JobSnapshot BEFORE = JobSnapshot.pending(JobProgress.none(300), "created");
  private static final JobView.Log SILENT = new JobView.Log(Progress.NONE, 0, null);

  /** A phase Job of 300 steps, as rendered: the job contract's step range in its environment. */
  private static JobBuilder job() {
    return new JobBuilder()
        .withNewMetadata()
        .withName("r-0-sft-1")
        .withUid("job-uid")
        .endMetadata()
        .withNewSpec()
        .withNewTemplate()
        .withNewSpec()
        .addNewContainer()
        .withName("trainer")
        .addNewEnv()
        .withName("SYLLABUS_STEP_START")
        .withValue("0")
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_STEP_END")
        .withValue("300")
        .endEnv()
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec();
  }

  private static Job withCondition(JobBuilder job, String type, String reason) {
    return job.withNewStatus()
        .addNewCondition()
        .withType(type)
        .withStatus("True")
        .withReason(reason)
        .endCondition()
        .endStatus()
        .build();
  }

  private static Job stopAsked(JobBuilder job) {
    return job.editMetadata()
        .addToAnnotations(JobView.STOP_ANNOTATION, "pause")
        .endMetadata()
        .editSpec()
        .withSuspend(true)
        .endSpec()
        .build();
  }

  private static Pod pod(String phase, ContainerStatus trainer) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("r-0-sft-1-abcde")
        .withCreationTimestamp("2026-12-07T06:00:00Z")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("trainer")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .withContainerStatuses(trainer)
        .endStatus()
        .build();
  }

  private static ContainerStatus running() {
    return new ContainerStatusBuilder()
        .withName("trainer")
        .withNewState()
        .withNewRunning()
        .endRunning()
        .endState()
        .build();
  }

  private static ContainerStatus exited(int code) {
    return new ContainerStatusBuilder()
        .withName("trainer")
        .withNewState()
        .withNewTerminated()
        .withExitCode(code)
        .endTerminated()
        .endState()
        .build();
  }

  private static ContainerStatus waiting(String reason) {
    return new ContainerStatusBuilder()
        .withName("trainer")
        .withImage("ghcr.io/exmaple/axolotl:0.9")
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .endWaiting()
        .endState()
        .build();
  }

  private static JobSnapshot view(Job job, List<Pod> pods, Long checkpoint) {
    return JobView.of(job, pods, null, checkpoint, SILENT, BEFORE);
  }

  @Test
  void aCompleteJobWithTheLastCheckpointSucceeded() {
    JobSnapshot seen = view(withCondition(job(), "Complete", null), List.of(), 300L);
    assertEquals(JobState.SUCCEEDED, seen.state());
    assertEquals(300, seen.progress().step());
    assertEquals(300, seen.progress().maxSteps());
  }

  @Test
  void aPodThatSucceededAtTheLastCheckpointEndsThePhaseBeforeTheJobIsMarkedComplete() {
    JobView.Log readToEnd = new JobView.Log(Progress.NONE, 40, "done", Map.of(), true);
    JobSnapshot seen =
        JobView.of(
            job().build(), List.of(pod("Succeeded", exited(0))), null, 300L, readToEnd, BEFORE);
    assertEquals(JobState.SUCCEEDED, seen.state());
    assertEquals(300, seen.progress().step());
  }

  @Test
  void aSucceededPodWaitsForTheJobWhileItsLogIsUnreadOrItStoppedShort() {
    Pod succeeded = pod("Succeeded", exited(0));
    JobSnapshot unread = view(job().build(), List.of(succeeded), 300L);
    assertFalse(unread.state().hasEnded(), unread.toString());

    JobView.Log readToEnd = new JobView.Log(Progress.NONE, 40, "done", Map.of(), true);
    JobSnapshot early =
        JobView.of(job().build(), List.of(succeeded), null, 120L, readToEnd, BEFORE);
    assertFalse(early.state().hasEnded(), early.toString());

    JobSnapshot pausing =
        JobView.of(
            job()
                .editMetadata()
                .addToAnnotations(JobView.STOP_ANNOTATION, "pause")
                .endMetadata()
                .build(),
            List.of(succeeded),
            null,
            300L,
            readToEnd,
            BEFORE);
    assertFalse(
        pausing.state().hasEnded(), "a stop asked waits for the Job controller: " + pausing);
  }

  @Test
  void aCompleteJobThatStoppedEarlyOnItsOwnFailed() {
    JobSnapshot seen = view(withCondition(job(), "Complete", null), List.of(), 120L);
    assertEquals(JobState.FAILED, seen.state());
    assertEquals(
        "the trainer exited 0 before its last step (latest complete checkpoint: 120 of 300)",
        seen.message());
  }

  @Test
  void aJobThatCompletedWhileBeingStoppedIsStopped() {
    Job job =
        withCondition(
            job().editMetadata().addToAnnotations(JobView.STOP_ANNOTATION, "pause").endMetadata(),
            "Complete",
            null);
    JobSnapshot seen = view(job, List.of(), 120L);
    assertEquals(JobState.STOPPED, seen.state());
    assertEquals("stopped at checkpoint 120", seen.message());
  }

  @Test
  void aSuspendedJobWhoseTrainerStillSavesIsRunningUntilItsPodEnds() {
    JobSnapshot saving = view(stopAsked(job()), List.of(pod("Running", running())), 100L);
    assertEquals(JobState.RUNNING, saving.state());
    assertEquals("stopping: the trainer saves a checkpoint", saving.message());

    JobSnapshot stopped = view(stopAsked(job()), List.of(pod("Succeeded", exited(0))), 120L);
    assertEquals(JobState.STOPPED, stopped.state());
    assertEquals("stopped at checkpoint 120", stopped.message());
  }

  @Test
  void aJobSuspendedByKueueWaitsForCapacityWithKueuesReason() {
    Job job =
        job()
            .editMetadata()
            .addToLabels(Renderer.KUEUE_QUEUE_LABEL, "team-a")
            .endMetadata()
            .editSpec()
            .withSuspend(true)
            .endSpec()
            .build();
    GenericKubernetesResource workload = new GenericKubernetesResource();
    workload.setAdditionalProperty(
        "status",
        Map.of(
            "conditions",
            List.of(
                Map.of(
                    "type",
                    "QuotaReserved",
                    "status",
                    "False",
                    "message",
                    "couldn't assign flavors to pod set main: insufficient unused quota"))));
    JobSnapshot seen = JobView.of(job, List.of(), workload, null, SILENT, BEFORE);
    assertEquals(JobState.PENDING, seen.state());
    assertTrue(seen.waitingForCapacity());
    assertEquals(
        "waiting for capacity: queued in Kueue queue team-a: couldn't assign flavors to pod set"
            + " main: insufficient unused quota",
        seen.message());
  }

  @Test
  void aJobSuspendedBySomeoneElseSaysHowToStartIt() {
    Job job = job().editSpec().withSuspend(true).endSpec().build();
    JobSnapshot seen = view(job, List.of(), null);
    assertEquals(JobState.PENDING, seen.state());
    assertFalse(seen.waitingForCapacity());
    assertTrue(seen.message().contains("is suspended, not by Syllabus"), seen.message());
  }

  @Test
  void aFailedJobSaysWhyWithTheExitCodeAndTheLastLine() {
    Job job = withCondition(job(), "Failed", "BackoffLimitExceeded");
    JobView.Log log = new JobView.Log(Progress.NONE, 12, "CUDA error: out of memory");
    JobSnapshot seen = JobView.of(job, List.of(pod("Failed", exited(3))), null, 40L, log, BEFORE);
    assertEquals(JobState.FAILED, seen.state());
    assertFalse(seen.permanent());
    assertEquals(3, seen.exitCode());
    assertEquals(
        "Job r-0-sft-1 failed (BackoffLimitExceeded); exit code 3: CUDA error: out of memory",
        seen.message());
    assertEquals(12, seen.logLines());
  }

  @Test
  void anImageThatCannotBePulledFailsAtOnceAndForGood() {
    JobSnapshot seen =
        view(job().build(), List.of(pod("Pending", waiting("ImagePullBackOff"))), null);
    assertEquals(JobState.FAILED, seen.state());
    assertTrue(seen.permanent());
    assertTrue(seen.message().contains("cannot pull image"), seen.message());
  }

  @Test
  void aPodStillCreatingIsPendingWithItsReason() {
    JobSnapshot seen =
        view(job().build(), List.of(pod("Pending", waiting("ContainerCreating"))), null);
    assertEquals(JobState.PENDING, seen.state());
    assertEquals("pod r-0-sft-1-abcde: ContainerCreating", seen.message());
  }

  @Test
  void aJobWithNoPodYetWaitsForIt() {
    JobSnapshot seen = view(job().build(), List.of(), null);
    assertEquals(JobState.PENDING, seen.state());
    assertEquals("waiting for the Job's pod", seen.message());
  }

  @Test
  void aRunningPodsProgressIsTheLaterOfTheLogAndTheCheckpoint() {
    JobView.Log log = new JobView.Log(new Progress(150, 300, 0.42, 0.5), 80, null);
    JobSnapshot seen =
        JobView.of(job().build(), List.of(pod("Running", running())), null, 200L, log, BEFORE);
    assertEquals(JobState.RUNNING, seen.state());
    assertEquals(new JobProgress(200, 300, 0.42, 0.5, 200L), seen.progress());
    assertEquals(80, seen.logLines());
  }

  // --- preempted by Kueue: the Workload's conditions as Kueue 0.17 set them on the testbed ------

  /** Kueue's message on a Workload it preempted (its preemptor and preemptee paths included). */
  private static final String PREEMPTED_BY =
      "Preempted to accommodate a workload (UID: 8153d2d7-bd30-44a4-ad5d-d37dfb3fbc2c, JobUID:"
          + " 9d22da61-cb32-458c-9721-973548af7e9c) due to prioritization in the ClusterQueue;"
          + " preemptor path: /pre-cq; preemptee path: /pre-cq";

  private static final String SHOWN =
      "preempted by Kueue: Preempted to accommodate a workload (UID:"
          + " 8153d2d7-bd30-44a4-ad5d-d37dfb3fbc2c, JobUID: 9d22da61-cb32-458c-9721-973548af7e9c)"
          + " due to prioritization in the ClusterQueue";

  private static Map<String, Object> condition(
      String type, String status, String reason, String message) {
    return Map.of("type", type, "status", status, "reason", reason, "message", message);
  }

  private static GenericKubernetesResource workload(Map<?, ?>... conditions) {
    GenericKubernetesResource workload = new GenericKubernetesResource();
    workload.setAdditionalProperty("status", Map.of("conditions", List.of(conditions)));
    return workload;
  }

  /** The phase's Job in queue team-a, suspended or not. */
  private static JobBuilder queued(boolean suspended) {
    return job()
        .editMetadata()
        .addToLabels(Renderer.KUEUE_QUEUE_LABEL, "team-a")
        .endMetadata()
        .editSpec()
        .withSuspend(suspended)
        .endSpec();
  }

  /** The trainer's pod of before the preemption, deleted by the Job controller. */
  private static Pod deleted(Pod pod) {
    return new PodBuilder(pod)
        .editMetadata()
        .withDeletionTimestamp("2026-12-07T06:05:00Z")
        .endMetadata()
        .build();
  }

  private static Pod newPod(String phase, ContainerStatus trainer) {
    return new PodBuilder(pod(phase, trainer))
        .editMetadata()
        .withName("r-0-sft-1-fghij")
        .endMetadata()
        .build();
  }

  /** Right after the preemption: Kueue still holds the quota while the Job's pod terminates. */
  private static final GenericKubernetesResource EVICTING =
      workload(
          condition("QuotaReserved", "True", "QuotaReserved", "Quota reserved in ClusterQueue cq"),
          condition("Evicted", "True", "Preempted", PREEMPTED_BY),
          condition("Admitted", "True", "Admitted", "The workload is admitted"),
          condition("Preempted", "True", "InClusterQueue", PREEMPTED_BY));

  /** Its pod is gone: requeued, it waits for quota. */
  private static final GenericKubernetesResource REQUEUED =
      workload(
          condition(
              "QuotaReserved",
              "False",
              "Pending",
              "couldn't assign flavors to pod set main: insufficient unused quota for"
                  + " nvidia.com/gpu in flavor gpu, 4 more needed"),
          condition("Evicted", "True", "Preempted", PREEMPTED_BY),
          condition("Admitted", "False", "NoReservation", "The workload has no reservation"),
          condition("Preempted", "True", "InClusterQueue", PREEMPTED_BY),
          condition("Requeued", "True", "Preempted", PREEMPTED_BY));

  /** Admitted again: Kueue turned Evicted and Preempted false ("Previously: …"). */
  private static final GenericKubernetesResource READMITTED =
      workload(
          condition("QuotaReserved", "True", "QuotaReserved", "Quota reserved in ClusterQueue cq"),
          condition("Evicted", "False", "QuotaReserved", "Previously: " + PREEMPTED_BY),
          condition("Admitted", "True", "Admitted", "The workload is admitted"),
          condition("Preempted", "False", "QuotaReserved", "Previously: " + PREEMPTED_BY),
          condition("Requeued", "True", "Preempted", PREEMPTED_BY));

  @Test
  void aJobKueuePreemptedIsPreemptedWhileItsTrainerSaves() {
    JobSnapshot seen =
        JobView.of(
            queued(true).build(),
            List.of(deleted(pod("Running", running()))),
            EVICTING,
            100L,
            SILENT,
            BEFORE);
    assertEquals(JobState.PREEMPTED, seen.state());
    assertEquals(SHOWN + "; the trainer saves a checkpoint", seen.message());
    assertFalse(seen.waitingForCapacity());
  }

  @Test
  void aJobKueuePreemptedBeforeItWasSuspendedIsPreemptedToo() {
    // Kueue sets Evicted first, then suspends the Job.
    JobSnapshot seen =
        JobView.of(
            queued(false).build(),
            List.of(pod("Running", running())),
            EVICTING,
            100L,
            SILENT,
            BEFORE);
    assertEquals(JobState.PREEMPTED, seen.state());
  }

  @Test
  void aPreemptedJobWhoseTrainerSavedWaitsForCapacityToBeAdmittedAgain() {
    JobSnapshot seen =
        JobView.of(
            queued(true).build(),
            List.of(pod("Succeeded", exited(0))),
            REQUEUED,
            120L,
            SILENT,
            BEFORE);
    assertEquals(JobState.PREEMPTED, seen.state());
    assertTrue(seen.waitingForCapacity(), "the recipe's capacity deadline applies");
    assertEquals(
        SHOWN + "; waits to be admitted again, then resumes from checkpoint 120", seen.message());
    assertFalse(seen.state().hasEnded());
  }

  @Test
  void aPreemptedJobAdmittedAgainIsPreemptedUntilItsNewPodRuns() {
    JobSnapshot waiting =
        JobView.of(
            queued(true).build(),
            List.of(pod("Succeeded", exited(0))),
            REQUEUED,
            120L,
            SILENT,
            BEFORE);
    JobSnapshot admitted =
        JobView.of(
            queued(false).build(),
            List.of(pod("Succeeded", exited(0)), newPod("Pending", waiting("ContainerCreating"))),
            READMITTED,
            120L,
            SILENT,
            waiting);
    assertEquals(JobState.PREEMPTED, admitted.state());
    assertEquals(
        "admitted again by Kueue after its eviction; resumes from checkpoint 120",
        admitted.message());
    assertFalse(admitted.waitingForCapacity());

    JobSnapshot runs =
        JobView.of(
            queued(false).build(),
            List.of(pod("Succeeded", exited(0)), newPod("Running", running())),
            READMITTED,
            120L,
            SILENT,
            admitted);
    assertEquals(JobState.RUNNING, runs.state());
    assertEquals(null, runs.message());
  }

  @Test
  void aJobAdmittedAfterAnEarlierPreemptionRunsAsUsualWhenTheLastLookSawItRunning() {
    JobSnapshot running = JobSnapshot.of(JobState.RUNNING, JobProgress.none(300), 0, null, null);
    JobSnapshot seen =
        JobView.of(
            queued(false).build(),
            List.of(pod("Succeeded", exited(0)), newPod("Pending", waiting("ContainerCreating"))),
            READMITTED,
            120L,
            SILENT,
            running);
    assertEquals(JobState.PENDING, seen.state());
  }

  @Test
  void aPodsReadyTimeoutIsAnEvictionByKueueWithItsReason() {
    GenericKubernetesResource timedOut =
        workload(
            condition(
                "Evicted",
                "True",
                "PodsReadyTimeout",
                "Exceeded the PodsReady timeout team-a/job-r-0-sft-1-876ff"),
            condition("Requeued", "False", "PodsReadyTimeout", "Exceeded the PodsReady timeout"));
    JobSnapshot seen = JobView.of(queued(true).build(), List.of(), timedOut, null, SILENT, BEFORE);
    assertEquals(JobState.PREEMPTED, seen.state());
    assertEquals(
        "evicted by Kueue (PodsReadyTimeout): Exceeded the PodsReady timeout"
            + " team-a/job-r-0-sft-1-876ff; waits to be admitted again, then starts again from its"
            + " first step (it saved no checkpoint)",
        seen.message());
  }

  @Test
  void aWorkloadWeDeactivatedForAPauseIsAPauseNotAPreemption() {
    GenericKubernetesResource deactivated =
        workload(
            condition(
                "QuotaReserved", "True", "QuotaReserved", "Quota reserved in ClusterQueue cq"),
            condition("Evicted", "True", "Deactivated", "The workload is deactivated"),
            condition("Admitted", "True", "Admitted", "The workload is admitted"));
    Job paused =
        queued(true)
            .editMetadata()
            .addToAnnotations(JobView.STOP_ANNOTATION, "pause")
            .endMetadata()
            .build();
    JobSnapshot saving =
        JobView.of(
            paused, List.of(deleted(pod("Running", running()))), deactivated, 100L, SILENT, BEFORE);
    assertEquals(JobState.RUNNING, saving.state());
    assertEquals("stopping: the trainer saves a checkpoint", saving.message());

    JobSnapshot stopped =
        JobView.of(paused, List.of(pod("Succeeded", exited(0))), deactivated, 120L, SILENT, saving);
    assertEquals(JobState.STOPPED, stopped.state());
  }

  @Test
  void aWorkloadSomeoneElseDeactivatedIsNotAPreemption() {
    GenericKubernetesResource deactivated =
        workload(
            condition("QuotaReserved", "False", "Pending", "The workload is deactivated"),
            condition("Evicted", "True", "Deactivated", "The workload is deactivated"),
            condition("Requeued", "False", "Deactivated", "The workload is deactivated"));
    JobSnapshot seen =
        JobView.of(
            queued(true).build(),
            List.of(pod("Succeeded", exited(0))),
            deactivated,
            120L,
            SILENT,
            BEFORE);
    assertEquals(JobState.PENDING, seen.state());
    assertEquals(
        "waiting for capacity: queued in Kueue queue team-a: The workload is deactivated",
        seen.message());
  }

  @Test
  void aQueuedJobWithAPriorityClassButNoWorkloadSaysWhatKueueMayMiss() {
    Job job =
        queued(true)
            .editMetadata()
            .addToLabels(Renderer.KUEUE_PRIORITY_LABEL, "hihg")
            .endMetadata()
            .build();
    JobSnapshot seen = JobView.of(job, List.of(), null, null, SILENT, BEFORE);
    assertEquals(JobState.PENDING, seen.state());
    assertEquals(
        "queued in Kueue queue team-a (no Workload yet; Kueue makes none while the"
            + " WorkloadPriorityClass hihg does not exist)",
        seen.message());
  }
}
