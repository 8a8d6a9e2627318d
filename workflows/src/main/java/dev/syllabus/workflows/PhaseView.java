package dev.syllabus.workflows;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.PhaseProgress;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.job.Wanted;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * What a phase shows: its status as the Web UI draws it (current details and search attributes), as
 * its run hears of it (a report at each change of state, each tenth of its steps and each new
 * reason to wait), and as Prometheus counts it ({@link PhaseMetrics}). Part of {@link
 * PhaseWorkflowImpl}, so deterministic like it.
 */
final class PhaseView {
  private static final Logger log = Workflow.getLogger(PhaseView.class);

  private final PhaseTask task;
  private final PhaseMetrics metrics;
  private PhaseStatus status;
  private JobRef job;
  private Long checkpoint;

  /** The attempt's job as last seen, or null before it started. */
  private JobSnapshot seen;

  private PhaseState reportedState;
  private int reportedDecile = -1;
  private String reportedMessage;
  private int reportedControls;

  /**
   * Whether the run hears of every control the phase heard, even when nothing else changed, so that
   * a control that changed nothing (a resume and a pause heard together) is still answered.
   */
  private boolean reportsControls;

  private PhaseState searchableState;
  private Promise<Void> reporting;
  private PhaseStatus unsentReport;

  private PhaseView(PhaseTask task, PhaseStatus status) {
    this.task = task;
    this.status = status;
    this.metrics = new PhaseMetrics(task);
  }

  /** A phase about to start: PENDING at its first step. */
  static PhaseView of(PhaseTask task) {
    Phase phase = task.phase();
    return new PhaseView(
        task,
        new PhaseStatus(
            task.index(),
            phase.name(),
            phase.framework(),
            phase.workload(),
            PhaseState.PENDING,
            task.steps().start(),
            task.steps().end(),
            task.steps().start(),
            null,
            null,
            0,
            null,
            null,
            null,
            0));
  }

  /** A phase that continued as new: as it was shown, already reported to its run. */
  static PhaseView restored(PhaseTask task, PhaseProgress carried) {
    PhaseView view = new PhaseView(task, carried.status());
    view.job = carried.job();
    view.seen = carried.snapshot();
    view.checkpoint =
        carried.snapshot() == null ? null : carried.snapshot().progress().checkpointStep();
    view.reportedState = carried.status().state();
    view.reportedMessage = carried.status().message();
    view.reportedControls = carried.status().controls();
    return view;
  }

  PhaseStatus status() {
    return status;
  }

  /** The phase heard a control (pause, resume, advance or skip); reports made from now count it. */
  void controlHeard() {
    status = status.withControlHeard();
  }

  /**
   * From now on, a control heard is reported to the run at the next publish even if it changed
   * nothing else.
   */
  void reportControls() {
    reportsControls = true;
  }

  void setState(PhaseState state, String message) {
    status = status.withState(state, message);
    publish();
  }

  /** A new attempt's job: shown from now on, its progress counted from its checkpoint. */
  void attemptStarted(JobRef attempt) {
    job = attempt;
    seen = null;
    status = status.withProgress(status.step(), null, null, attempt.attempt());
  }

  /**
   * Shows the job as its latest snapshot says, pending or preempted with the reason, or running:
   * after it was started or resumed, and when it is followed again after continue-as-new.
   */
  void showJob(JobSnapshot seen) {
    this.seen = seen;
    metrics.jobStarted();
    if (seen.state() == JobState.PENDING) {
      setState(PhaseState.PENDING, seen.message());
    } else if (seen.state() == JobState.PREEMPTED) {
      setState(PhaseState.PREEMPTED, seen.message());
    } else {
      setState(PhaseState.RUNNING, null);
    }
  }

  /** Takes in what following the job brought back: its step, losses, checkpoint and state. */
  void observe(JobSnapshot seen) {
    this.seen = seen;
    if (seen.state().hasEnded()) {
      metrics.jobEnded(seen.state());
    }
    long step = task.steps().start() + Math.min(seen.progress().step(), task.steps().length());
    checkpoint = seen.progress().checkpointStep();
    status =
        status
            .withProgress(
                step, seen.progress().loss(), seen.progress().evalLoss(), status.attempt())
            .withCheckpoint(checkpoint == null ? null : task.steps().start() + checkpoint);
    if (seen.state() == JobState.PENDING) {
      status = status.withState(PhaseState.PENDING, seen.message());
    } else if (seen.state() == JobState.PREEMPTED) {
      // The same attempt carries on once its queue admits it again: not a failure, not a retry.
      status = status.withState(PhaseState.PREEMPTED, seen.message());
    } else if (seen.state() == JobState.RUNNING
        && (status.state() == PhaseState.PENDING || status.state() == PhaseState.PREEMPTED)) {
      status = status.withState(PhaseState.RUNNING, null);
    }
    if (seen.state() == JobState.SUCCEEDED) {
      // The run hears of the last steps with the phase's outcome, a moment later; a report now
      // would only cost the handoff a signal and a workflow task on each side.
      Workflow.setCurrentDetails(details());
      metrics.shown(status.state(), seen);
      return;
    }
    publish();
  }

  /** An attempt failed and another starts: says so, with why. */
  void retrying(String why) {
    status =
        status.withState(
            PhaseState.RUNNING, "attempt " + status.attempt() + " failed: " + why + "; retrying");
    publish();
  }

  /** The phase's final status: its state, the step it ended at and what it hands on. */
  PhaseOutcome end(PhaseState state, Triplet output, Long checkpointStep, String message) {
    long step =
        switch (state) {
          case COMPLETED -> task.steps().end();
          case ADVANCED -> task.steps().start() + (checkpointStep == null ? 0 : checkpointStep);
          default -> task.steps().start();
        };
    log.info("phase {} ended {} at step {}", status.name(), state, step);
    status =
        new PhaseStatus(
            status.index(),
            status.name(),
            status.framework(),
            status.workload(),
            state,
            status.stepStart(),
            status.stepEnd(),
            step,
            status.loss(),
            status.evalLoss(),
            status.attempt(),
            output,
            message,
            status.checkpoint(),
            status.controls());
    publish();
    return new PhaseOutcome(status, output, metrics.jobEndedAt(), metrics.times());
  }

  /** Shows the phase in the Web UI and tells the parent run at state changes and each tenth. */
  void publish() {
    metrics.shown(status.state(), seen);
    Workflow.setCurrentDetails(details());
    upsertSearchAttributes();
    Optional<String> parent = Workflow.getInfo().getParentWorkflowId();
    if (parent.isEmpty() || status.state().isFinal()) {
      return;
    }
    long length = Math.max(1, status.stepEnd() - status.stepStart());
    int decile = (int) Math.min(10, (status.step() - status.stepStart()) * 10 / length);
    if (status.state() == reportedState
        && decile <= reportedDecile
        && !pendingReasonChanged()
        && !(reportsControls && status.controls() != reportedControls)) {
      return;
    }
    reportedState = status.state();
    reportedDecile = decile;
    reportedMessage = status.message();
    reportedControls = status.controls();
    report(parent.get(), status);
  }

  /** The running job was asked to stop, for what {@code wanted} says: counted by the metrics. */
  void stopSent(Wanted wanted) {
    metrics.stopSent(wanted);
  }

  /**
   * Waits until the reports on their way to the run have arrived. A phase that ends (or continues
   * as new) while one is still on its way has its last workflow task refused by the server, as an
   * event (the signal's delivery) came in meanwhile, and the run could end before the report
   * reached it.
   */
  void awaitReports() {
    if (reporting != null) {
      Workflow.await(() -> reporting.isCompleted() && unsentReport == null);
    }
  }

  /**
   * Lets the Web UI find phases as it finds runs ({@code SyllabusState = "PAUSED"} lists the paused
   * phase beside its run): the recipe, phase and state, upserted when the state changes.
   */
  private void upsertSearchAttributes() {
    if (status.state() == searchableState) {
      return;
    }
    searchableState = status.state();
    Workflow.upsertTypedSearchAttributes(
        SearchKeys.RECIPE.valueSet(task.recipe()),
        SearchKeys.PHASE.valueSet(status.name()),
        SearchKeys.STATE.valueSet(status.state().name()));
  }

  /**
   * Sends a report to the run without waiting for it to arrive: the phase goes on with its next
   * step at once (on a real server each delivery takes a round trip of tens of milliseconds, and a
   * phase reports a few times; waiting for them was most of a short phase's time). Reports go one
   * at a time, so the run sees them in order; one made while another is on its way waits, and a
   * newer one replaces it.
   */
  private void report(String runId, PhaseStatus report) {
    if (reporting != null && !reporting.isCompleted()) {
      unsentReport = report;
      return;
    }
    CurriculumWorkflow run = Workflow.newExternalWorkflowStub(CurriculumWorkflow.class, runId);
    reporting = Async.procedure(run::phaseReport, report);
    reporting.handle(
        (delivered, failure) -> {
          if (failure != null && !Signals.closedTarget(failure)) {
            log.warn("a report to run {} failed: {}", runId, failure.getMessage());
          }
          PhaseStatus next = unsentReport;
          unsentReport = null;
          if (next != null) {
            report(runId, next);
          }
          return null;
        });
  }

  /**
   * Whether a waiting phase now waits for something else: a pending one (its servers, then
   * capacity), or a preempted one (its trainer saved; it waits to be admitted again; it was).
   */
  private boolean pendingReasonChanged() {
    return (status.state() == PhaseState.PENDING || status.state() == PhaseState.PREEMPTED)
        && reportedState == status.state()
        && !Objects.equals(status.message(), reportedMessage);
  }

  private String details() {
    StringBuilder out = new StringBuilder();
    out.append("**")
        .append(status.name())
        .append("** · ")
        .append(task.phase().frameworkWorkload())
        .append(" · steps ")
        .append(task.steps())
        .append(" of ")
        .append(task.totalSteps());
    if (status.attempt() > 0) {
      out.append(" · attempt ").append(status.attempt());
    }
    out.append(
        "\n\n| state | step | loss | eval loss | checkpoint | job |\n|---|---|---|---|---|---|\n");
    out.append("| ")
        .append(status.state())
        .append(" | ")
        .append(status.step())
        .append(" / ")
        .append(status.stepEnd())
        .append(" | ")
        .append(format(status.loss()))
        .append(" | ")
        .append(format(status.evalLoss()))
        .append(" | ")
        .append(checkpoint != null ? "checkpoint-" + checkpoint : "–")
        .append(" | ")
        .append(job != null ? job.name() : "–")
        .append(" |\n");
    if (status.message() != null) {
      out.append("\n").append(status.message()).append('\n');
    }
    return out.toString();
  }

  static String format(Double value) {
    return value == null ? "–" : String.format(Locale.ROOT, "%.4f", value);
  }
}
