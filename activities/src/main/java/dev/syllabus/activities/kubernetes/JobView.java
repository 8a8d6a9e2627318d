package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.JobContract;
import dev.syllabus.activities.Progress;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.util.List;
import java.util.Map;

/**
 * Where a phase's job stands, from what the informers show of its Job, its pods and its Kueue
 * Workload, and from what its trainer printed. Pure: it reads no cluster and changes nothing, so it
 * is tested on fixtures. The job contract's verdict ({@link JobContract}) decides a Job that ran to
 * its end; the Job controller decides a Job that failed; the rest is Kubernetes' own way of saying
 * a pod waits (for an image, a node, Kueue).
 */
final class JobView {

  /** On a Job Syllabus asked to stop: the reason. Removed when it is resumed. */
  static final String STOP_ANNOTATION = Renderer.STOP_ANNOTATION;

  /**
   * What the trainer's pods printed so far. On several nodes, only rank 0 prints the progress (as a
   * distributed trainer's main process does), so only rank 0's pods are followed; another rank's
   * last line is read once it failed.
   *
   * @param progress what was read from every line of the followed pods
   * @param lines how many lines were read, over the followed pods
   * @param lastLine the followed pods' last line, for a failure's message, or null
   * @param lastLineOfPod the last line of pods that were not followed, by pod name (another rank
   *     that failed)
   * @param readToEnd whether the followed pods that ended were read to the end of their logs
   */
  record Log(
      Progress progress,
      long lines,
      String lastLine,
      Map<String, String> lastLineOfPod,
      boolean readToEnd) {
    Log {
      lastLineOfPod = Map.copyOf(lastLineOfPod);
    }

    Log(Progress progress, long lines, String lastLine, Map<String, String> lastLineOfPod) {
      this(progress, lines, lastLine, lastLineOfPod, false);
    }

    Log(Progress progress, long lines, String lastLine) {
      this(progress, lines, lastLine, Map.of(), false);
    }
  }

  private JobView() {}

  /**
   * @param job the Job, as the informer shows it
   * @param pods its pods, oldest first
   * @param workload its Kueue Workload, or null (not queued, or not made yet)
   * @param checkpoint the step of the phase's latest complete checkpoint, or null
   * @param log what its pods printed
   * @param before the previous look, whose progress carries on
   */
  static JobSnapshot of(
      Job job,
      List<Pod> pods,
      GenericKubernetesResource workload,
      Long checkpoint,
      Log log,
      JobSnapshot before) {
    long maxSteps = maxSteps(job);
    if (maxSteps == 0) {
      maxSteps = before.progress().maxSteps();
    }
    JobProgress was = before.progress();
    Progress read = log.progress();
    JobProgress progress =
        new JobProgress(
            Math.max(Math.max(was.step(), read.step()), checkpoint == null ? 0 : checkpoint),
            maxSteps,
            read.loss() != null ? read.loss() : was.loss(),
            read.evalLoss() != null ? read.evalLoss() : was.evalLoss(),
            checkpoint);
    return state(job, pods, workload, checkpoint, maxSteps, log, progress, before);
  }

  private static JobSnapshot state(
      Job job,
      List<Pod> pods,
      GenericKubernetesResource workload,
      Long checkpoint,
      long maxSteps,
      Log log,
      JobProgress progress,
      JobSnapshot before) {
    long lines = log.lines();
    boolean stopAsked = annotation(job, STOP_ANNOTATION) != null;
    Pod latest = pods.isEmpty() ? null : pods.get(pods.size() - 1);
    PodTrouble trouble = latest == null ? null : PodTrouble.of(latest);
    int ranks = JobRanks.ranks(job);

    if (condition(job, "Complete")) {
      JobContract.Verdict verdict = JobContract.verdict(0, stopAsked, checkpoint, maxSteps);
      return JobSnapshot.of(verdict.state(), progress, lines, 0, verdict.message());
    }
    if (!stopAsked
        && log.readToEnd()
        && JobRanks.everyRankSucceeded(job, pods)
        && JobContract.verdict(0, false, checkpoint, maxSteps).state() == JobState.SUCCEEDED) {
      // The Job controller marks the Job Complete about a second after its last pod (it batches a
      // Job's syncs by a second). Every rank exited 0 at the last checkpoint and its log was read:
      // the phase is done now, and the next one need not wait that second.
      return JobSnapshot.of(JobState.SUCCEEDED, progress, lines, 0, null);
    }
    JobCondition failed = firstCondition(job, "Failed", "FailureTarget");
    if (failed != null && ranks > 1) {
      return JobRanks.failed(job, pods, failed, log, progress);
    }
    if (ranks > 1) {
      // One rank that cannot run holds back every other: the phase fails as soon as one cannot.
      PodTrouble stuck = JobRanks.permanentTrouble(pods);
      if (stuck != null) {
        return new JobSnapshot(
            JobState.FAILED, progress, lines, null, stuck.message(), true, false);
      }
    }
    if (failed != null) {
      Integer exit = exitCode(latest);
      if (trouble != null && trouble.permanent()) {
        return new JobSnapshot(
            JobState.FAILED, progress, lines, exit, trouble.message(), true, false);
      }
      String why =
          "Job "
              + job.getMetadata().getName()
              + " failed ("
              + failed.getReason()
              + (failed.getMessage() == null ? "" : ": " + PodTrouble.oneLine(failed.getMessage()))
              + ")";
      if (exit != null) {
        why += "; exit code " + exit;
        if (exit != 0 && log.lastLine() != null) {
          why += ": " + log.lastLine();
        }
      }
      return JobSnapshot.of(JobState.FAILED, progress, lines, exit, why);
    }
    if (trouble != null && trouble.permanent()) {
      return new JobSnapshot(
          JobState.FAILED, progress, lines, exitCode(latest), trouble.message(), true, false);
    }
    // A pod counts until the Job controller has accounted for it: a pod that exits 0 while its Job
    // is suspended may yet complete the Job, which resume must know about.
    boolean live = pods.stream().anyMatch(p -> live(p) || unaccounted(p)) || hasUncounted(job);
    if (Kueue.queue(job) != null && !stopAsked) {
      JobSnapshot preempted =
          preempted(job, latest, trouble, live, workload, checkpoint, before, progress, lines);
      if (preempted != null) {
        return preempted;
      }
    }
    if (Boolean.TRUE.equals(job.getSpec().getSuspend())) {
      if (live) {
        String saving = stopAsked ? "stopping: the trainer saves a checkpoint" : null;
        return JobSnapshot.of(JobState.RUNNING, progress, lines, null, saving);
      }
      if (stopAsked) {
        JobContract.Verdict verdict =
            JobContract.verdict(exitCode(latest), true, checkpoint, maxSteps);
        return JobSnapshot.of(
            verdict.state(), progress, lines, exitCode(latest), verdict.message());
      }
      String queue = Kueue.queue(job);
      if (queue != null) {
        return new JobSnapshot(
            JobState.PENDING,
            progress,
            lines,
            null,
            Kueue.queued(job, queue, workload),
            false,
            true);
      }
      return JobSnapshot.of(
          JobState.PENDING,
          progress,
          lines,
          null,
          "Job "
              + job.getMetadata().getName()
              + " is suspended, not by Syllabus (kubectl patch job … suspend: false, or pause and"
              + " resume the run)");
    }
    if (ranks > 1) {
      return JobRanks.starting(job, pods, ranks, progress, lines);
    }
    if (trouble != null && trouble.capacity()) {
      return new JobSnapshot(
          JobState.PENDING, progress, lines, null, trouble.message(), false, true);
    }
    if (latest != null && running(latest)) {
      return JobSnapshot.of(JobState.RUNNING, progress, lines, null, null);
    }
    String waiting =
        latest == null
            ? "waiting for the Job's pod"
            : "pod " + latest.getMetadata().getName() + ": " + waiting(latest);
    return JobSnapshot.of(JobState.PENDING, progress, lines, null, waiting);
  }

  /**
   * A Job that Kueue evicted after admitting it, not on our request: preempted for a Workload of
   * higher priority, or its pods were not ready in time. Kueue suspends it, so the Job controller
   * deletes its pods and the trainer saves a checkpoint on SIGTERM; the Workload waits to be
   * admitted again (which counts as waiting for capacity); once admitted, the Job gets a new pod
   * that resumes from the checkpoint. The Job is preempted from the eviction until that pod runs;
   * Kueue clears the {@code Evicted} condition at the admission, so from then on only the previous
   * look says it was. Null when the Job was not evicted, or runs again.
   */
  private static JobSnapshot preempted(
      Job job,
      Pod latest,
      PodTrouble trouble,
      boolean live,
      GenericKubernetesResource workload,
      Long checkpoint,
      JobSnapshot before,
      JobProgress progress,
      long lines) {
    String why = Kueue.evicted(workload);
    if (why != null && live) {
      String stopping =
          latest != null && started(latest)
              ? "the trainer saves a checkpoint"
              : "its pod is deleted";
      return new JobSnapshot(
          JobState.PREEMPTED, progress, lines, null, why + "; " + stopping, false, false);
    }
    if (why != null) {
      return new JobSnapshot(
          JobState.PREEMPTED,
          progress,
          lines,
          null,
          why + "; waits to be admitted again, then " + resumes(checkpoint),
          false,
          true);
    }
    boolean runsAgain =
        !Boolean.TRUE.equals(job.getSpec().getSuspend())
            && latest != null
            && latest.getMetadata().getDeletionTimestamp() == null
            && running(latest);
    if (before.state() != JobState.PREEMPTED || runsAgain) {
      return null;
    }
    boolean capacity = trouble != null && trouble.capacity();
    return new JobSnapshot(
        JobState.PREEMPTED,
        progress,
        lines,
        null,
        "admitted again by Kueue after its eviction; "
            + resumes(checkpoint)
            + (capacity ? " (" + trouble.message() + ")" : ""),
        false,
        capacity);
  }

  private static String resumes(Long checkpoint) {
    return checkpoint == null
        ? "starts again from its first step (it saved no checkpoint)"
        : "resumes from checkpoint " + checkpoint;
  }

  /** The phase's step count, from the job-contract environment of the Job's first container. */
  static long maxSteps(Job job) {
    Container main = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    long start = -1;
    long end = -1;
    for (EnvVar var : main.getEnv() == null ? List.<EnvVar>of() : main.getEnv()) {
      try {
        if ("SYLLABUS_STEP_START".equals(var.getName())) {
          start = Long.parseLong(var.getValue());
        } else if ("SYLLABUS_STEP_END".equals(var.getName())) {
          end = Long.parseLong(var.getValue());
        }
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return start >= 0 && end >= start ? end - start : 0;
  }

  /** An annotation's value, or null when it is not there or empty. */
  static String annotation(HasMetadata object, String key) {
    Map<String, String> annotations = object.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(key);
    return value == null || value.isEmpty() ? null : value;
  }

  /** Whether the Job has the condition, true. */
  static boolean condition(Job job, String type) {
    return firstCondition(job, type) != null;
  }

  /** The first of these conditions the Job has, true, in the order given; or null. */
  static JobCondition firstCondition(Job job, String... types) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) {
      return null;
    }
    for (String type : types) {
      for (JobCondition condition : job.getStatus().getConditions()) {
        if (type.equals(condition.getType()) && "True".equals(condition.getStatus())) {
          return condition;
        }
      }
    }
    return null;
  }

  /** Whether the pod has not ended (Succeeded or Failed). */
  static boolean live(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  /** Whether the pod's trainer container has started, so that it has a log to follow. */
  static boolean started(Pod pod) {
    ContainerStatus main = mainStatus(pod);
    return main != null
        && main.getState() != null
        && (main.getState().getRunning() != null || main.getState().getTerminated() != null);
  }

  /** A finished pod the Job controller has not recorded yet (its tracking finalizer is on). */
  private static boolean unaccounted(Pod pod) {
    List<String> finalizers = pod.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains("batch.kubernetes.io/job-tracking");
  }

  private static boolean hasUncounted(Job job) {
    var uncounted = job.getStatus() == null ? null : job.getStatus().getUncountedTerminatedPods();
    return uncounted != null
        && ((uncounted.getSucceeded() != null && !uncounted.getSucceeded().isEmpty())
            || (uncounted.getFailed() != null && !uncounted.getFailed().isEmpty()));
  }

  static boolean running(Pod pod) {
    ContainerStatus main = mainStatus(pod);
    return main != null && main.getState() != null && main.getState().getRunning() != null;
  }

  static ContainerStatus mainStatus(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return null;
    }
    String main = pod.getSpec().getContainers().get(0).getName();
    for (ContainerStatus status : pod.getStatus().getContainerStatuses()) {
      if (status.getName().equals(main)) {
        return status;
      }
    }
    return null;
  }

  static Integer exitCode(Pod pod) {
    ContainerStatus main = pod == null ? null : mainStatus(pod);
    if (main == null || main.getState() == null || main.getState().getTerminated() == null) {
      return null;
    }
    return main.getState().getTerminated().getExitCode();
  }

  static String waiting(Pod pod) {
    ContainerStatus main = mainStatus(pod);
    if (main != null && main.getState() != null && main.getState().getWaiting() != null) {
      return main.getState().getWaiting().getReason();
    }
    return pod.getStatus() == null || pod.getStatus().getPhase() == null
        ? "Pending"
        : pod.getStatus().getPhase();
  }
}
