package dev.syllabus.worker;

import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;

/**
 * How many phases one worker runs at once, and the Temporal worker settings that follow from it.
 * Each running phase holds one activity slot for as long as its job runs (the activity that follows
 * the job), and keeps two workflows in the worker's cache (the run's and the phase's), each with
 * its workflow thread. Temporal's defaults (200 activity slots, 600 cached workflows, 600 workflow
 * threads) hold about 200 running phases: the 201st phase's follow activity waits in the task queue
 * until another returns, and cached workflows are evicted and replayed. See docs/kubernetes.md
 * ("Worker capacity").
 *
 * @param phases the running phases this worker is sized for
 * @param activitySlots activities at once: one follow per phase, and room for the short steps of
 *     the phases that start, stop and end meanwhile
 * @param workflowCache workflows kept in memory between their tasks: a run and its phase each
 * @param workflowThreads workflow threads: one per cached workflow, and as many again
 */
public record WorkerCapacity(
    int phases, int activitySlots, int workflowCache, int workflowThreads) {

  /** The phases a worker is sized for unless told otherwise. */
  public static final int DEFAULT_PHASES = 500;

  /** Room for the short steps (render, submit, collect, records) beside the follows. */
  static final int SHORT_STEP_SLOTS = 100;

  public static final WorkerCapacity DEFAULT = forPhases(DEFAULT_PHASES);

  public WorkerCapacity {
    if (phases < 1) {
      throw new IllegalArgumentException("a worker runs at least 1 phase at once, not " + phases);
    }
  }

  /** The settings for a worker that runs up to {@code phases} phases at once. */
  public static WorkerCapacity forPhases(int phases) {
    int cache = 2 * phases + SHORT_STEP_SLOTS;
    return new WorkerCapacity(phases, phases + SHORT_STEP_SLOTS, cache, 2 * cache);
  }

  /** The task queue's worker, with these activity slots. */
  public WorkerOptions workerOptions() {
    return WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(activitySlots).build();
  }

  /** The factory's settings, with this cache and these threads, on top of {@code base}. */
  public WorkerFactoryOptions factoryOptions(WorkerFactoryOptions base) {
    return WorkerFactoryOptions.newBuilder(base)
        .setWorkflowCacheSize(workflowCache)
        .setMaxWorkflowThreadCount(workflowThreads)
        .build();
  }

  /** One line for the worker's start-up message. */
  public String describe() {
    return String.format(
        "sized for %d running phases: %d activity slots, %d cached workflows, %d workflow"
            + " threads",
        phases, activitySlots, workflowCache, workflowThreads);
  }
}
