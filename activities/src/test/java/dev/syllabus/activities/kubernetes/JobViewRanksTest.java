package dev.syllabus.activities.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.Progress;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the Kubernetes backend makes of a trainer on several nodes: an Indexed Job of four ranks
 * (one pod each, its rank in the completion-index annotation), on objects shaped as the testbed's
 * API server returns them.
 */
class JobViewRanksTest {
  private static final JobSnapshot BEFORE = JobSnapshot.pending(JobProgress.none(300), "created");
  private static final JobView.Log SILENT = new JobView.Log(Progress.NONE, 0, null);

  /** The phase's Job on four nodes, as rendered: Indexed, four completions, 300 steps. */
  private static JobBuilder job() {
    return new JobBuilder()
        .withNewMetadata()
        .withName("r-0-sft-1")
        .endMetadata()
        .withNewSpec()
        .withCompletionMode("Indexed")
        .withCompletions(4)
        .withParallelism(4)
        .withBackoffLimit(0)
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

  private static Job withCondition(String type, String reason) {
    return job()
        .withNewStatus()
        .addNewCondition()
        .withType(type)
        .withStatus("True")
        .withReason(reason)
        .endCondition()
        .endStatus()
        .build();
  }

  /** Rank {@code rank}'s pod, named as the Job controller names it, on {@code node} (or none). */
  private static PodBuilder rank(int rank, String node, String phase, ContainerStatus trainer) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("r-0-sft-1-" + rank + "-abcde")
        .addToAnnotations(JobRanks.COMPLETION_INDEX, Integer.toString(rank))
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("trainer")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .withContainerStatuses(trainer)
        .endStatus();
  }

  private static Pod running(int rank) {
    return rank(
            rank,
            "gpu-node-" + rank,
            "Running",
            new ContainerStatusBuilder()
                .withName("trainer")
                .withNewState()
                .withNewRunning()
                .endRunning()
                .endState()
                .build())
        .build();
  }

  private static Pod exited(int rank, int code, String finishedAt) {
    return rank(
            rank,
            "gpu-node-" + rank,
            code == 0 ? "Succeeded" : "Failed",
            new ContainerStatusBuilder()
                .withName("trainer")
                .withNewState()
                .withNewTerminated()
                .withExitCode(code)
                .withFinishedAt(finishedAt)
                .endTerminated()
                .endState()
                .build())
        .build();
  }

  /** A rank the scheduler cannot place, with kube-scheduler v1.37's message. */
  private static Pod unschedulable(int rank) {
    return rank(rank, null, "Pending", null)
        .editStatus()
        .withContainerStatuses(List.of())
        .addNewCondition()
        .withType("PodScheduled")
        .withStatus("False")
        .withReason("Unschedulable")
        .withMessage(
            "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are"
                + " available: 2 No preemption victims found for incoming pod.")
        .endCondition()
        .endStatus()
        .build();
  }

  private static Pod waiting(int rank, String reason) {
    return rank(
            rank,
            "gpu-node-" + rank,
            "Pending",
            new ContainerStatusBuilder()
                .withName("trainer")
                .withImage("ghcr.io/exmaple/axolotl:0.9")
                .withNewState()
                .withNewWaiting()
                .withReason(reason)
                .endWaiting()
                .endState()
                .build())
        .build();
  }

  private static JobSnapshot view(Job job, List<Pod> pods, JobView.Log log) {
    return JobView.of(job, pods, null, 120L, log, BEFORE);
  }

  @Test
  void onlyRankZeroPrintsTheProgress() {
    assertTrue(JobRanks.printsProgress(running(0)));
    assertFalse(JobRanks.printsProgress(running(1)));
    assertFalse(JobRanks.printsProgress(running(3)));
    Pod single = new PodBuilder().withNewMetadata().withName("r-0-sft-1-xyz").endMetadata().build();
    assertTrue(JobRanks.printsProgress(single), "the pod of a Job on one node prints its progress");
  }

  @Test
  void theRanksOfAJobAreItsCompletionsWhenIndexed() {
    assertEquals(4, JobRanks.ranks(job().build()));
    assertEquals(
        1,
        JobRanks.ranks(
            job().editSpec().withCompletionMode(null).withCompletions(1).endSpec().build()));
  }

  @Test
  void everyRankRunningIsRunningWithTheProgressOfRankZerosLog() {
    JobView.Log rankZero =
        new JobView.Log(new Progress(150, 300, 0.42, null), 80, "{'loss': 0.42}");
    JobSnapshot seen =
        view(job().build(), List.of(running(0), running(1), running(2), running(3)), rankZero);
    assertEquals(JobState.RUNNING, seen.state());
    assertNull(seen.message());
    assertEquals(150, seen.progress().step());
    assertEquals(0.42, seen.progress().loss());
  }

  @Test
  void ranksThatFinishedBeforeTheOthersLeaveThePhaseRunning() {
    JobSnapshot seen =
        view(
            job().withNewStatus().withSucceeded(2).endStatus().build(),
            List.of(
                exited(0, 0, "2026-12-07T06:10:00Z"),
                exited(1, 0, "2026-12-07T06:10:01Z"),
                running(2),
                running(3)),
            SILENT);
    assertEquals(JobState.RUNNING, seen.state());
    assertEquals("2 of 4 ranks running, 2 done", seen.message());
  }

  @Test
  void aJobOnSeveralNodesSucceedsWhenTheJobControllerSaysEveryRankCompleted() {
    JobSnapshot seen =
        JobView.of(
            withCondition("Complete", "CompletionsReached"), List.of(), null, 300L, SILENT, BEFORE);
    assertEquals(JobState.SUCCEEDED, seen.state());
  }

  @Test
  void aFailingRankFailsThePhaseWithItsExitCodeAndItsOwnLastLine() {
    JobView.Log log =
        new JobView.Log(
            new Progress(60, 300, 0.5, null),
            40,
            "{'loss': 0.5}",
            Map.of(
                "r-0-sft-1-2-abcde",
                "RuntimeError: CUDA error: an illegal memory access was encountered"));
    JobSnapshot seen =
        view(
            withCondition("FailureTarget", "BackoffLimitExceeded"),
            List.of(running(0), running(1), exited(2, 1, "2026-12-07T06:10:00Z"), running(3)),
            log);
    assertEquals(JobState.FAILED, seen.state());
    assertFalse(seen.permanent(), "another attempt may get past it");
    assertEquals(1, seen.exitCode());
    assertEquals(
        "rank 2 (pod r-0-sft-1-2-abcde) failed: exit code 1: RuntimeError: CUDA error: an illegal"
            + " memory access was encountered",
        seen.message());
  }

  @Test
  void theRankThatFailedFirstIsTheOneNamed() {
    JobSnapshot seen =
        view(
            withCondition("Failed", "BackoffLimitExceeded"),
            List.of(
                exited(0, 143, "2026-12-07T06:10:05Z"),
                exited(1, 1, "2026-12-07T06:10:00Z"),
                exited(2, 0, "2026-12-07T06:10:04Z")),
            new JobView.Log(Progress.NONE, 10, "terminated", Map.of()));
    assertEquals("rank 1 (pod r-0-sft-1-1-abcde) failed: exit code 1", seen.message());
  }

  @Test
  void aFailingRankZeroIsNamedWithTheLastLineOfItsFollowedLog() {
    JobSnapshot seen =
        view(
            withCondition("FailureTarget", "BackoffLimitExceeded"),
            List.of(exited(0, 2, "2026-12-07T06:10:00Z"), running(1)),
            new JobView.Log(Progress.NONE, 10, "KeyError: 'SYLLABUS_OUTPUT_DIR'", Map.of()));
    assertEquals(
        "rank 0 (pod r-0-sft-1-0-abcde) failed: exit code 2: KeyError: 'SYLLABUS_OUTPUT_DIR'",
        seen.message());
  }

  @Test
  void ranksTheSchedulerCannotPlaceWaitForCapacitySayingHowManyArePlaced() {
    JobSnapshot seen =
        view(
            job().build(),
            List.of(running(0), running(1), unschedulable(2), unschedulable(3)),
            SILENT);
    assertEquals(JobState.PENDING, seen.state());
    assertTrue(seen.waitingForCapacity());
    assertFalse(seen.permanent());
    assertEquals(
        "waiting for capacity: 2 of 4 ranks placed; pod r-0-sft-1-2-abcde: 0/2 nodes are"
            + " available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2"
            + " No preemption victims found for incoming pod.",
        seen.message());
  }

  @Test
  void aRankThatCannotPullItsImageFailsThePhaseWhileTheOthersRun() {
    JobSnapshot seen =
        view(
            job().build(),
            List.of(running(0), running(1), running(2), waiting(3, "ImagePullBackOff")),
            SILENT);
    assertEquals(JobState.FAILED, seen.state());
    assertTrue(seen.permanent());
    assertTrue(seen.message().startsWith("pod r-0-sft-1-3-abcde: container trainer cannot pull"));
  }

  @Test
  void ranksStillBeingCreatedArePendingWithHowManyArePlaced() {
    JobSnapshot seen =
        view(
            job().build(),
            List.of(waiting(0, "ContainerCreating"), waiting(1, "ContainerCreating")),
            SILENT);
    assertEquals(JobState.PENDING, seen.state());
    assertFalse(seen.waitingForCapacity());
    assertEquals("2 of 4 ranks placed; pod r-0-sft-1-0-abcde: ContainerCreating", seen.message());
  }

  @Test
  void aPhaseOnSeveralNodesEndsWhenEveryRankSucceededNotWhenRankZeroDid() {
    JobView.Log readToEnd = new JobView.Log(Progress.NONE, 40, "done", Map.of(), true);
    String at = "2026-12-07T06:10:00Z";
    List<Pod> rankZeroDone = List.of(exited(0, 0, at), running(1), running(2), running(3));
    JobSnapshot partly = JobView.of(job().build(), rankZeroDone, null, 300L, readToEnd, BEFORE);
    assertFalse(partly.state().hasEnded(), partly.toString());

    List<Pod> allDone =
        List.of(exited(0, 0, at), exited(1, 0, at), exited(2, 0, at), exited(3, 0, at));
    JobSnapshot done = JobView.of(job().build(), allDone, null, 300L, readToEnd, BEFORE);
    assertEquals(JobState.SUCCEEDED, done.state());
  }
}
