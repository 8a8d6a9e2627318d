package dev.syllabus.workflows;

import dev.syllabus.workflows.record.RecordActivities;
import dev.syllabus.workflows.record.RecordUpdate;
import dev.syllabus.workflows.record.RecordUpdate.PhaseEntry;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * Keeps the run's record (docs/run-records.md) up to date from the run: when it starts, when each
 * phase starts and ends, when it ends. One write at a time, each carrying what changed since the
 * last, so that the writes never overtake each other; a write never holds the run up, except the
 * last one, which the run waits for before it ends (or continues as new). A record that cannot be
 * written is logged, never a reason to fail the run. Runs started before the record existed ({@link
 * #RUN_RECORD}) write none.
 */
final class RunRecorder {
  private static final Logger log = Workflow.getLogger(RunRecorder.class);

  /** The change id of the run record, for runs whose history began before it. */
  static final String RUN_RECORD = "run-record";

  private final RecordActivities activities =
      Workflow.newActivityStub(
          RecordActivities.class,
          ActivityOptions.newBuilder()
              .setStartToCloseTimeout(Duration.ofSeconds(30))
              .setScheduleToCloseTimeout(Duration.ofMinutes(2))
              .setRetryOptions(
                  RetryOptions.newBuilder()
                      .setInitialInterval(Duration.ofSeconds(1))
                      .setMaximumInterval(Duration.ofSeconds(10))
                      .build())
              .build());

  private final String runId;
  private final boolean enabled;
  private final Map<Integer, PhaseEntry> changed = new TreeMap<>();
  private final Map<Integer, Long> startedAt = new HashMap<>();
  private RecordUpdate.Start start;
  private RunStatus latest;
  private boolean ended;
  private boolean unwritten;
  private Promise<Void> writing;

  /**
   * Called at the start of the run's workflow method, where the version marker goes. A retry's
   * first workflow run records the phases it took over from the run it retries.
   */
  RunRecorder(RunInput input, String runId) {
    this.runId = runId;
    this.enabled =
        Workflow.getVersion(RUN_RECORD, Workflow.DEFAULT_VERSION, 1) != Workflow.DEFAULT_VERSION;
    if (!enabled) {
      return;
    }
    this.start =
        new RecordUpdate.Start(input.recipe(), input.retryOf(), Workflow.currentTimeMillis());
    RunStatus carried = input.carried();
    boolean firstRun = Workflow.getInfo().getContinuedExecutionRunId().isEmpty();
    if (firstRun && input.retryOf() != null && carried != null) {
      for (int i = 0; i < carried.phaseIndex(); i++) {
        PhaseStatus reused = carried.phases().get(i);
        changed.put(i, new PhaseEntry(reused, null, null, null, reused.artifacts(), true));
      }
    }
  }

  /** The run is running (again, after continuing as new), as {@code status} shows. */
  void started(RunStatus status) {
    latest = status;
    unwritten = true;
    write();
  }

  /** Phase {@code i}'s workflow has started. */
  void phaseStarted(int i, RunStatus status) {
    long now = Workflow.currentTimeMillis();
    startedAt.put(i, now);
    phase(i, status, new PhaseEntry(status.phases().get(i), now, null, null, null, false));
  }

  /** Phase {@code i} ended as {@code outcome} says. */
  void phaseEnded(int i, PhaseOutcome outcome, RunStatus status) {
    phase(
        i,
        status,
        new PhaseEntry(
            outcome.status(),
            startedAt.get(i),
            Workflow.currentTimeMillis(),
            outcome.times(),
            outcome.output(),
            false));
  }

  /** Phase {@code i} ended without an outcome: skipped before it started, failed or canceled. */
  void phaseStopped(int i, RunStatus status) {
    phase(
        i,
        status,
        new PhaseEntry(
            status.phases().get(i),
            startedAt.get(i),
            Workflow.currentTimeMillis(),
            null,
            null,
            false));
  }

  /** The run ended as {@code status} shows: writes it and waits until the record has it. */
  void ended(RunStatus status) {
    latest = status;
    ended = true;
    unwritten = true;
    write();
    awaitWritten();
  }

  /** Waits until every change so far is in the record (before the run continues as new). */
  void awaitWritten() {
    if (enabled) {
      Workflow.await(() -> writing == null && !unwritten);
    }
  }

  private void phase(int i, RunStatus status, PhaseEntry entry) {
    latest = status;
    changed.put(i, entry);
    unwritten = true;
    write();
  }

  /** Sends what changed, unless a write is under way: then it goes when that one is done. */
  private void write() {
    if (!enabled || writing != null || !unwritten) {
      return;
    }
    RecordUpdate update =
        new RecordUpdate(
            runId,
            Workflow.currentTimeMillis(),
            start,
            latest.state(),
            latest.message(),
            latest.step(),
            ended,
            new ArrayList<>(changed.values()));
    start = null;
    changed.clear();
    unwritten = false;
    writing = Async.procedure(activities::writeRecord, update);
    writing.handle(
        (done, failure) -> {
          if (failure != null) {
            log.warn("the record of run {} was not written: {}", runId, failure.getMessage());
          }
          writing = null;
          write();
          return null;
        });
  }
}
