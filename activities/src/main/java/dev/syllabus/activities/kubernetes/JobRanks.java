package dev.syllabus.activities.kubernetes;

import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A trainer on several nodes as its Indexed Job shows it: one pod per rank, the rank in the pod's
 * completion index. {@link JobView} asks it where such a Job stands when it failed or has not
 * ended; what holds for every Job (completion, a pause, Kueue) stays in {@link JobView}. Pure, like
 * it.
 */
final class JobRanks {

  /** The annotation the Job controller gives each pod of an Indexed Job: its rank. */
  static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

  private JobRanks() {}

  /**
   * A Job on several nodes that failed: the rank that failed first, with its exit code and last
   * line (the Job controller then deletes the other ranks' pods). Null exit code when no rank's
   * container exited with an error (the Job failed for another reason, e.g. its deadline).
   */
  static JobSnapshot failed(
      Job job, List<Pod> pods, JobCondition failed, JobView.Log log, JobProgress progress) {
    long lines = log.lines();
    for (Pod pod : pods) {
      PodTrouble trouble = PodTrouble.of(pod);
      if (trouble != null && trouble.permanent()) {
        return new JobSnapshot(
            JobState.FAILED,
            progress,
            lines,
            JobView.exitCode(pod),
            trouble.message(),
            true,
            false);
      }
    }
    Pod first = null;
    for (Pod pod : pods) {
      Integer exit = JobView.exitCode(pod);
      if (exit != null && exit != 0 && (first == null || finishedAt(pod) < finishedAt(first))) {
        first = pod;
      }
    }
    if (first == null) {
      return JobSnapshot.of(
          JobState.FAILED,
          progress,
          lines,
          null,
          "Job "
              + job.getMetadata().getName()
              + " failed ("
              + failed.getReason()
              + (failed.getMessage() == null ? "" : ": " + PodTrouble.oneLine(failed.getMessage()))
              + ")");
    }
    int exit = JobView.exitCode(first);
    String name = first.getMetadata().getName();
    Integer rank = rank(first);
    String last = rank != null && rank == 0 ? log.lastLine() : log.lastLineOfPod().get(name);
    return JobSnapshot.of(
        JobState.FAILED,
        progress,
        lines,
        exit,
        "rank "
            + rank
            + " (pod "
            + name
            + ") failed: exit code "
            + exit
            + (last == null ? "" : ": " + last));
  }

  /** The first permanent trouble of a pod that has not ended, or null. */
  static PodTrouble permanentTrouble(List<Pod> pods) {
    for (Pod pod : pods) {
      PodTrouble trouble = JobView.live(pod) ? PodTrouble.of(pod) : null;
      if (trouble != null && trouble.permanent()) {
        return trouble;
      }
    }
    return null;
  }

  /**
   * A Job on several nodes that neither ended nor is suspended: it runs once its ranks run, and
   * waits for capacity while the scheduler cannot place one of them (the others wait with it; a
   * distributed trainer starts only when every rank has joined).
   */
  static JobSnapshot starting(
      Job job, List<Pod> pods, int ranks, JobProgress progress, long lines) {
    List<Pod> current =
        pods.stream()
            .filter(p -> JobView.live(p) && p.getMetadata().getDeletionTimestamp() == null)
            .toList();
    long placed =
        current.stream()
            .filter(p -> p.getSpec() != null && p.getSpec().getNodeName() != null)
            .count();
    for (Pod pod : current) {
      PodTrouble trouble = PodTrouble.of(pod);
      if (trouble != null && trouble.capacity()) {
        return new JobSnapshot(
            JobState.PENDING,
            progress,
            lines,
            null,
            PodTrouble.WAITING_FOR_CAPACITY
                + placed
                + " of "
                + ranks
                + " ranks placed; "
                + trouble.message().substring(PodTrouble.WAITING_FOR_CAPACITY.length()),
            false,
            true);
      }
    }
    long running = current.stream().filter(JobView::running).count();
    // The ranks the Job controller counted as done (not a pod of before a pause that exited 0).
    int done =
        job.getStatus() == null || job.getStatus().getSucceeded() == null
            ? 0
            : job.getStatus().getSucceeded();
    if (running > 0 || done > 0) {
      String message =
          running == ranks
              ? null
              : running
                  + " of "
                  + ranks
                  + " ranks running"
                  + (done > 0 ? ", " + done + " done" : "");
      return JobSnapshot.of(JobState.RUNNING, progress, lines, null, message);
    }
    Pod waiting = current.isEmpty() ? null : current.get(0);
    return JobSnapshot.of(
        JobState.PENDING,
        progress,
        lines,
        null,
        waiting == null
            ? "waiting for the Job's " + ranks + " pods"
            : placed
                + " of "
                + ranks
                + " ranks placed; pod "
                + waiting.getMetadata().getName()
                + ": "
                + JobView.waiting(waiting));
  }

  /**
   * How many nodes the Job's trainer spans: the completions of an Indexed Job (one pod per rank),
   * else 1.
   */
  static int ranks(Job job) {
    var spec = job.getSpec();
    if ("Indexed".equals(spec.getCompletionMode()) && spec.getCompletions() != null) {
      return Math.max(1, spec.getCompletions());
    }
    return 1;
  }

  /**
   * Whether a pod of every rank has Succeeded (the pod of a Job on one node), while the Job runs:
   * not suspended, so that none of them is a pod that ended on a pause.
   */
  static boolean everyRankSucceeded(Job job, List<Pod> pods) {
    if (Boolean.TRUE.equals(job.getSpec().getSuspend())) {
      return false;
    }
    int ranks = ranks(job);
    Set<Integer> succeeded = new HashSet<>();
    for (Pod pod : pods) {
      if (pod.getStatus() != null && "Succeeded".equals(pod.getStatus().getPhase())) {
        Integer rank = rank(pod);
        succeeded.add(rank == null ? 0 : rank);
      }
    }
    for (int rank = 0; rank < ranks; rank++) {
      if (!succeeded.contains(rank)) {
        return false;
      }
    }
    return true;
  }

  /** A pod's rank (its completion index), or null for a pod of a Job on one node. */
  static Integer rank(Pod pod) {
    String index = JobView.annotation(pod, COMPLETION_INDEX);
    try {
      return index == null ? null : Integer.valueOf(index);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * Whether the pod prints the trainer's progress: rank 0 of a Job on several nodes (the main
   * process of a distributed trainer), or the pod of a Job on one node.
   */
  static boolean printsProgress(Pod pod) {
    Integer rank = rank(pod);
    return rank == null || rank == 0;
  }

  /** Whether the pod's trainer container exited with an error. */
  static boolean failedWithError(Pod pod) {
    Integer exit = JobView.exitCode(pod);
    return exit != null && exit != 0;
  }

  private static long finishedAt(Pod pod) {
    ContainerStatus main = JobView.mainStatus(pod);
    String at = main.getState().getTerminated().getFinishedAt();
    try {
      return at == null ? Long.MAX_VALUE : Instant.parse(at).toEpochMilli();
    } catch (DateTimeParseException e) {
      return Long.MAX_VALUE;
    }
  }
}
