package dev.syllabus.workflows;

import com.uber.m3.tally.Scope;
import com.uber.m3.util.Duration;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Wanted;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.PhaseTimes;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.workflow.Workflow;
import java.util.Map;

/**
 * What a run and its phases show to Prometheus, through the worker's metrics scope ({@link
 * Workflow#getMetricsScope}). The SDK emits nothing while a workflow replays, so a value is emitted
 * once, by the worker that took the step; times are workflow times. Emitting adds no command to the
 * history. Each metric is described in docs/monitoring.md ("Metrics"). Part of the workflows, so
 * deterministic like them: one instance per phase workflow run (kept by {@link PhaseView}), and
 * {@link #showStates} for the run ({@link CurriculumView}).
 */
public final class PhaseMetrics {

  /** Gauge {run, recipe, state}: 1 for the run's current state, 0 for the others. */
  public static final String RUN_STATE = "syllabus_run_state";

  /** Gauge {run, phase, state}: 1 for each phase's current state, 0 for the others. */
  public static final String PHASE_STATE = "syllabus_phase_state";

  /** Histogram {recipe, phase}: the previous phase's job ended → this phase's first job started. */
  public static final String HANDOFF_LATENCY = "syllabus_handoff_latency";

  /** Histogram {recipe, phase}: the stop sent for a pause → the job seen stopped. */
  public static final String PAUSE_LATENCY = "syllabus_pause_latency";

  /** Counter {run, phase}: seconds the phase's job ran. */
  public static final String RUNNING_SECONDS = "syllabus_phase_running_seconds";

  /** Counter {run, phase}: seconds the phase's job waited for cluster capacity. */
  public static final String QUEUED_SECONDS = "syllabus_phase_queued_seconds";

  /** Counter {run, phase}: seconds the phase was paused. */
  public static final String PAUSED_SECONDS = "syllabus_phase_paused_seconds";

  /** Counter {run, phase}: the GPUs the phase asks for × the seconds its job ran. */
  public static final String GPU_SECONDS = "syllabus_phase_gpu_seconds";

  /** What a phase spends its time on, as its time counters see it. */
  enum Doing {
    RUNNING,
    QUEUED,
    PAUSED,
    OTHER;

    /**
     * What the phase does while it shows {@code state} and its job was last seen as {@code job}.
     */
    static Doing of(PhaseState state, JobSnapshot job) {
      if (state == PhaseState.PAUSED) {
        return PAUSED;
      }
      if (job == null) {
        return OTHER;
      }
      if ((state == PhaseState.PENDING || state == PhaseState.PREEMPTED)
          && job.waitingForCapacity()) {
        return QUEUED;
      }
      if (state == PhaseState.RUNNING && job.state() == JobState.RUNNING) {
        return RUNNING;
      }
      return OTHER;
    }
  }

  /**
   * Milliseconds added up and handed to a counter of seconds in whole seconds, the fraction kept
   * for the next time (the SDK's counters count in whole numbers).
   */
  static final class WholeSeconds {
    private long millis;

    /** Every millisecond added so far. */
    long millis() {
      return millis;
    }

    /** Adds {@code more} milliseconds; returns the whole seconds this completes. */
    long add(long more) {
      long before = millis / 1000;
      millis += more;
      return millis / 1000 - before;
    }
  }

  private final PhaseTask task;
  private final int gpus;
  private final WholeSeconds running = new WholeSeconds();
  private final WholeSeconds queued = new WholeSeconds();
  private final WholeSeconds paused = new WholeSeconds();
  private final WholeSeconds gpuTime = new WholeSeconds();

  private Doing doing = Doing.OTHER;
  private Long since;
  private boolean handoffMeasured;
  private Long stopSentAt;
  private boolean stopForPause;
  private Long jobEndedAt;
  private Long handoffMillis;

  PhaseMetrics(PhaseTask task) {
    this.task = task;
    this.gpus = task.phase().gpus();
    // A phase that continued as new had started its job in an earlier run.
    this.handoffMeasured = task.carried() != null;
  }

  /**
   * The phase now shows {@code state}, its job last seen as {@code job} (null before it started):
   * the time since the last call is counted as what the phase did until now.
   */
  void shown(PhaseState state, JobSnapshot job) {
    long now = Workflow.currentTimeMillis();
    if (since != null) {
      count(now - since);
    }
    since = now;
    doing = Doing.of(state, job);
  }

  /**
   * A job of the phase was started, or resumed, or is followed again after continue-as-new: the
   * first start of its first job ends the handoff from the previous phase.
   */
  void jobStarted() {
    if (handoffMeasured) {
      return;
    }
    handoffMeasured = true;
    Long from = task.previousJobEndedAt();
    if (from != null) {
      handoffMillis = Math.max(0, Workflow.currentTimeMillis() - from);
      record(HANDOFF_LATENCY, handoffMillis);
    }
  }

  /** The running job was asked to stop, for what {@code wanted} says. */
  void stopSent(Wanted wanted) {
    if (stopSentAt == null) {
      stopSentAt = Workflow.currentTimeMillis();
      stopForPause = wanted.pause() && !wanted.advance() && !wanted.skip();
    }
  }

  /** The job was seen to end in {@code state}: a stopped one ends the pause that stopped it. */
  void jobEnded(JobState state) {
    long now = Workflow.currentTimeMillis();
    jobEndedAt = now;
    if (state == JobState.STOPPED && stopSentAt != null && stopForPause) {
      record(PAUSE_LATENCY, now - stopSentAt);
    }
    stopSentAt = null;
  }

  /** Workflow time when the phase's latest job was seen to end; null when none ran. */
  Long jobEndedAt() {
    return jobEndedAt;
  }

  /** Where the phase's time went so far, for the run record. */
  PhaseTimes times() {
    return new PhaseTimes(running.millis(), queued.millis(), paused.millis(), handoffMillis, gpus);
  }

  /** The run's state and each of its phases' as gauges: 1 for the current one, 0 for the others. */
  static void showStates(RunStatus run) {
    Scope scope = Workflow.getMetricsScope();
    for (RunState state : RunState.values()) {
      scope
          .tagged(Map.of("run", run.runId(), "recipe", run.recipe(), "state", state.name()))
          .gauge(RUN_STATE)
          .update(state == run.state() ? 1 : 0);
    }
    for (PhaseStatus phase : run.phases()) {
      for (PhaseState state : PhaseState.values()) {
        scope
            .tagged(Map.of("run", run.runId(), "phase", phase.name(), "state", state.name()))
            .gauge(PHASE_STATE)
            .update(state == phase.state() ? 1 : 0);
      }
    }
  }

  private void count(long elapsedMillis) {
    switch (doing) {
      case RUNNING -> {
        increment(RUNNING_SECONDS, running.add(elapsedMillis));
        increment(GPU_SECONDS, gpuTime.add(elapsedMillis * gpus));
      }
      case QUEUED -> increment(QUEUED_SECONDS, queued.add(elapsedMillis));
      case PAUSED -> increment(PAUSED_SECONDS, paused.add(elapsedMillis));
      case OTHER -> {}
    }
  }

  private void increment(String counter, long seconds) {
    if (seconds > 0) {
      Workflow.getMetricsScope()
          .tagged(Map.of("run", task.runId(), "phase", task.phase().name()))
          .counter(counter)
          .inc(seconds);
    }
  }

  private void record(String histogram, long millis) {
    Workflow.getMetricsScope()
        .tagged(Map.of("recipe", task.recipe(), "phase", task.phase().name()))
        .timer(histogram)
        .record(Duration.ofMillis(Math.max(0, millis)));
  }
}
