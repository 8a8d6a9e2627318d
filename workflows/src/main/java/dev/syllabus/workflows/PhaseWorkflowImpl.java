package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.Launch;
import dev.syllabus.workflows.job.PhaseProgress;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Deadlines;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInfo;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * One phase, top to bottom: render, start the job, follow it until it ends, collect its checkpoint,
 * tear down. Signals only set what is wanted (pause, advance, skip); the loop in {@link #runPhase}
 * acts on them at the next step, so every transition is visible here.
 */
public class PhaseWorkflowImpl implements PhaseWorkflow {
  private static final Logger log = Workflow.getLogger(PhaseWorkflowImpl.class);

  /**
   * Render, submit, stop, resume: quick calls. Their timeout is also how long a phase waits to try
   * again on another worker when the one running the call died, so it is short.
   */
  private static final ActivityOptions QUICK =
      ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(30))
          .setRetryOptions(
              RetryOptions.newBuilder()
                  .setInitialInterval(Duration.ofMillis(500))
                  .setMaximumInterval(Duration.ofSeconds(30))
                  .setMaximumAttempts(10)
                  .build())
          .build();

  private PhaseTask task;
  private PhaseStatus status;
  private JobRef job;
  private JobSnapshot snapshot;
  private boolean jobStopped;
  private boolean stopRequested;
  private boolean pauseWanted;
  private boolean advanceWanted;
  private boolean skipWanted;
  private String reason;
  private int failures;
  private Long capacitySince;

  private PhaseState reportedState;
  private int reportedDecile = -1;
  private String reportedMessage;
  private PhaseState searchableState;
  private Boolean phasesSearchable;
  private Boolean reportsInBackground;
  private Boolean fewerRoundTrips;
  private Promise<Void> tearingDown;
  private Promise<Void> reporting;
  private PhaseStatus unsentReport;

  @Override
  public PhaseOutcome run(PhaseTask task) {
    this.task = task;
    restore(task);
    publish();
    boolean handingOver = false;
    try {
      PhaseOutcome outcome = runPhase();
      if (outcome != null) {
        awaitReports();
        return outcome;
      }
      handingOver = true;
    } catch (CanceledFailure e) {
      setState(PhaseState.CANCELED, "canceled");
      throw e;
    } catch (TemporalFailure e) {
      setState(PhaseState.FAILED, rootMessage(e));
      throw e;
    } finally {
      if (!handingOver && job != null) {
        JobRef last = job;
        String why = "phase ended " + status.state().name().toLowerCase(Locale.ROOT);
        Workflow.newDetachedCancellationScope(
                () -> {
                  if (tearingDown != null) {
                    tearingDown.get();
                  } else {
                    teardownActivities("tear down job " + last.name()).teardown(last, why);
                  }
                })
            .run();
      }
    }
    log.info("phase {} continues as new at step {}", phase().name(), status.step());
    awaitReports();
    Workflow.continueAsNew(task.withCarried(progress()));
    throw new IllegalStateException("unreachable: continueAsNew does not return");
  }

  /** Returns how the phase ended, or null when it should continue as new. */
  private PhaseOutcome runPhase() {
    while (true) {
      if (skipWanted) {
        return end(PhaseState.SKIPPED, task.input(), null, "skipped" + because());
      }
      if (advanceWanted && (job == null || jobStopped)) {
        return advanced();
      }
      if (pauseWanted) {
        setState(PhaseState.PAUSED, "paused" + because());
        Workflow.await(() -> !pauseWanted || skipWanted || advanceWanted);
        continue;
      }
      if (job == null) {
        int attempt = status.attempt() + 1;
        String forPhase =
            phase().frameworkWorkload()
                + " for phase "
                + phase().name()
                + " (attempt "
                + attempt
                + ")";
        RenderedPhase rendered;
        JobSnapshot started = null;
        if (fewerRoundTrips()) {
          Launch launch = activities("render and submit " + forPhase).launch(task, attempt);
          rendered = launch.rendered();
          started = launch.started();
        } else {
          rendered = activities("render " + forPhase).render(task, attempt);
        }
        job = rendered.job();
        status = status.withProgress(status.step(), null, null, attempt);
        if (started == null) {
          if (rendered.hasServers() && serversFirst() && !startServers(rendered)) {
            continue;
          }
          started =
              activities("submit " + phase().frameworkWorkload() + " for phase " + phase().name())
                  .startJob(rendered);
        }
        snapshot = started;
        jobStopped = false;
        stopRequested = false;
      } else if (jobStopped) {
        snapshot = activities("resume job " + job.name()).resumeJob(job);
        jobStopped = false;
        stopRequested = false;
      }
      if (snapshot.state() == JobState.PENDING) {
        setState(PhaseState.PENDING, snapshot.message());
      } else {
        setState(PhaseState.RUNNING, null);
      }

      JobSnapshot last = follow();
      if (last == null) {
        return null;
      }
      switch (last.state()) {
        case SUCCEEDED -> {
          if (skipWanted) {
            return end(PhaseState.SKIPPED, task.input(), null, "skipped" + because());
          }
          if (fewerRoundTrips()) {
            tearDownInBackground("phase ended completed");
          }
          Handoff handoff = collect();
          return end(
              PhaseState.COMPLETED, handoff.output(), handoff.checkpointStep(), handoff.message());
        }
        case STOPPED -> {
          // Stopped on request: the top of the loop pauses, advances or skips, or resumes the
          // job if the pause was withdrawn before it took effect.
          jobStopped = true;
          stopRequested = false;
        }
        case FAILED -> retryOrFail(last);
        default -> throw new IllegalStateException("follow returned " + last.state());
      }
    }
  }

  /**
   * Follows the running job, bringing its progress back every few seconds, until it ends. Sends the
   * stop a pause, advance or skip asks for while it waits. Returns null when the history is long
   * enough to continue as new.
   */
  private JobSnapshot follow() {
    PhaseActivities follower =
        Workflow.newActivityStub(
            PhaseActivities.class,
            ActivityOptions.newBuilder()
                .setSummary("follow job " + job.name())
                .setStartToCloseTimeout(Duration.ofMillis(task.reportEveryMillis()).plusMinutes(5))
                .setHeartbeatTimeout(Duration.ofSeconds(10))
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofMillis(200))
                        .setMaximumInterval(Duration.ofSeconds(10))
                        .setMaximumAttempts(30)
                        .build())
                .build());
    while (true) {
      JobSnapshot from = snapshot;
      Promise<JobSnapshot> next =
          Async.function(follower::followJob, job, from, task.reportEveryMillis());
      // A cancel abandons this promise; mark it handled so its failure is not reported as lost.
      next.handle((seen, failure) -> seen);
      while (!next.isCompleted()) {
        Workflow.await(() -> next.isCompleted() || (stopWanted() && !stopRequested));
        if (!next.isCompleted()) {
          activities("stop job " + job.name() + because()).stopJob(job, stopReason());
          stopRequested = true;
        }
      }
      snapshot = next.get();
      observe(snapshot);
      if (snapshot.state().hasEnded()) {
        return snapshot;
      }
      checkCapacityDeadline();
      if (shouldContinueAsNew()) {
        return null;
      }
    }
  }

  /**
   * Tears down a job that completed while its checkpoint is collected, instead of after: the
   * teardown does not touch the checkpoint (a finished Job and the artifacts stay), and the phase
   * ends one round trip to the server sooner. The phase still ends only once it is done.
   */
  private void tearDownInBackground(String why) {
    JobRef last = job;
    Workflow.newDetachedCancellationScope(
            () ->
                tearingDown =
                    Async.procedure(
                        teardownActivities("tear down job " + last.name())::teardown, last, why))
        .run();
  }

  /**
   * Whether this run takes the shorter way from one phase's job to the next: it launches a job in
   * one activity ({@link PhaseActivities#launch}), tears a completed job down while collecting its
   * checkpoint, does not report a completed job's last steps to the run (its outcome does), and
   * waits for its reports to arrive before it ends. Runs recorded before replay the old way.
   */
  private boolean fewerRoundTrips() {
    if (fewerRoundTrips == null) {
      fewerRoundTrips = Workflow.getVersion("fewer-round-trips", Workflow.DEFAULT_VERSION, 1) >= 1;
    }
    return fewerRoundTrips;
  }

  private void retryOrFail(JobSnapshot failed) {
    failures++;
    String why = failed.message() != null ? failed.message() : "the job failed";
    JobRef failedJob = job;
    teardownActivities("tear down failed job " + failedJob.name()).teardown(failedJob, why);
    job = null;
    if (failed.permanent()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "phase '"
              + phase().name()
              + "' failed: "
              + why
              + " (not retried: another attempt would fail"
              + " the same way)",
          "PhaseFailed");
    }
    if (failures > phase().retries()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "phase '"
              + phase().name()
              + "' failed after "
              + failures
              + " attempt"
              + (failures == 1 ? "" : "s")
              + ": "
              + why,
          "PhaseFailed");
    }
    log.warn(
        "phase {} attempt {} failed ({}); starting another", phase().name(), status.attempt(), why);
    status =
        status.withState(
            PhaseState.RUNNING, "attempt " + status.attempt() + " failed: " + why + "; retrying");
    publish();
  }

  /**
   * Runs with version 1 of this workflow and later: a phase with servers (vLLM, rewards) starts
   * them first and creates its Job only once they are ready. Runs recorded before servers existed
   * replay without this step.
   */
  private static boolean serversFirst() {
    return Workflow.getVersion("servers-before-job", Workflow.DEFAULT_VERSION, 1) >= 1;
  }

  /**
   * Starts the phase's servers and waits until they are ready, up to the recipe's ready deadline.
   * Returns false when a pause, skip or advance came first (the servers are torn down, so a pause
   * frees their GPUs); the loop in {@link #runPhase} then acts on it.
   */
  private boolean startServers(RenderedPhase rendered) {
    activities("submit the servers of phase " + phase().name()).submitServers(rendered);
    long limit = phase().deadlines().readyMillis();
    long started = Workflow.currentTimeMillis();
    while (true) {
      ServersStatus servers =
          activities("wait for the servers of phase " + phase().name())
              .awaitServers(rendered, task.reportEveryMillis());
      if (servers.ready()) {
        return true;
      }
      if (servers.permanent()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "phase '" + phase().name() + "': its servers cannot start: " + servers.waitingFor(),
            "PhaseFailed");
      }
      if (limit > 0 && Workflow.currentTimeMillis() - started > limit) {
        throw ApplicationFailure.newNonRetryableFailure(
            "phase '"
                + phase().name()
                + "': its servers were not ready within "
                + Deadlines.format(limit)
                + " (deadlines.ready): still waiting for "
                + servers.waitingFor(),
            "PhaseFailed");
      }
      setState(PhaseState.PENDING, "waiting for servers: " + servers.waitingFor());
      if (stopWanted()) {
        JobRef starting = job;
        teardownActivities("tear down the servers of phase " + phase().name())
            .teardown(starting, stopReason());
        job = null;
        return false;
      }
    }
  }

  /** Fails the phase once its job has waited for cluster capacity longer than the recipe allows. */
  private void checkCapacityDeadline() {
    if (!snapshot.waitingForCapacity()) {
      capacitySince = null;
      return;
    }
    long now = Workflow.currentTimeMillis();
    if (capacitySince == null) {
      capacitySince = now;
    }
    long limit = phase().deadlines().capacityMillis();
    if (limit > 0 && now - capacitySince > limit) {
      throw ApplicationFailure.newNonRetryableFailure(
          "phase '"
              + phase().name()
              + "' found no room in the cluster within "
              + Deadlines.format(limit)
              + " (deadlines.capacity): "
              + snapshot.message(),
          "PhaseFailed");
    }
  }

  private PhaseOutcome advanced() {
    if (job == null) {
      return end(
          PhaseState.ADVANCED,
          task.input(),
          null,
          "advanced before its job started; the input passes on" + because());
    }
    Handoff handoff = collect();
    return end(
        PhaseState.ADVANCED,
        handoff.output(),
        handoff.checkpointStep(),
        "advanced" + because() + ": " + handoff.message());
  }

  /**
   * Collecting digests the checkpoint, which takes long for a large model: it heartbeats instead of
   * having a short timeout, so a worker that dies meanwhile is noticed within seconds.
   */
  private Handoff collect() {
    return Workflow.newActivityStub(
            PhaseActivities.class,
            ActivityOptions.newBuilder(QUICK)
                .setSummary("collect the checkpoint of phase " + phase().name())
                .setStartToCloseTimeout(Duration.ofHours(2))
                .setHeartbeatTimeout(Duration.ofSeconds(10))
                .build())
        .collect(task, job);
  }

  private PhaseOutcome end(PhaseState state, Triplet output, Long checkpointStep, String message) {
    long step =
        switch (state) {
          case COMPLETED -> task.steps().end();
          case ADVANCED -> task.steps().start() + (checkpointStep == null ? 0 : checkpointStep);
          default -> task.steps().start();
        };
    log.info("phase {} ended {} at step {}", phase().name(), state, step);
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
            message);
    publish();
    return new PhaseOutcome(status, output);
  }

  // --- signals and query ----------------------------------------------------------------------

  @Override
  public void pause(String reason) {
    this.reason = reason;
    pauseWanted = true;
  }

  @Override
  public void resume(String reason) {
    this.reason = reason;
    pauseWanted = false;
  }

  @Override
  public void advance(String reason) {
    this.reason = reason;
    advanceWanted = true;
  }

  @Override
  public void skip(String reason) {
    this.reason = reason;
    skipWanted = true;
  }

  @Override
  public PhaseStatus status() {
    return status;
  }

  // --- state, progress and what the UI shows --------------------------------------------------

  private void restore(PhaseTask task) {
    PhaseProgress carried = task.carried();
    if (carried == null) {
      Phase phase = task.phase();
      status =
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
              null);
      return;
    }
    status = carried.status();
    job = carried.job();
    snapshot = carried.snapshot();
    jobStopped = carried.jobStopped();
    stopRequested = carried.stopRequested();
    // Signals that arrived before continue-as-new are kept; pauseWanted etc. may also have been
    // set by signals delivered to this new run before this method started.
    pauseWanted |= carried.pauseWanted();
    advanceWanted |= carried.advanceWanted();
    skipWanted |= carried.skipWanted();
    reason = reason != null ? reason : carried.reason();
    failures = carried.failures();
    capacitySince = carried.capacitySince();
    reportedState = status.state();
    reportedMessage = status.message();
  }

  private PhaseProgress progress() {
    return new PhaseProgress(
        status,
        job,
        snapshot,
        jobStopped,
        stopRequested,
        pauseWanted,
        advanceWanted,
        skipWanted,
        reason,
        failures,
        capacitySince);
  }

  private void observe(JobSnapshot seen) {
    long step = task.steps().start() + Math.min(seen.step(), task.steps().length());
    status = status.withProgress(step, seen.loss(), seen.evalLoss(), status.attempt());
    if (seen.state() == JobState.PENDING) {
      status = status.withState(PhaseState.PENDING, seen.message());
    } else if (seen.state() == JobState.RUNNING && status.state() == PhaseState.PENDING) {
      status = status.withState(PhaseState.RUNNING, null);
    }
    if (seen.state() == JobState.SUCCEEDED && fewerRoundTrips()) {
      // The run hears of the last steps with the phase's outcome, a moment later; a report now
      // would only cost the handoff a signal and a workflow task on each side.
      Workflow.setCurrentDetails(details());
      return;
    }
    publish();
  }

  private void setState(PhaseState state, String message) {
    status = status.withState(state, message);
    publish();
  }

  /**
   * Lets the Web UI find phases as it finds runs ({@code SyllabusState = "PAUSED"} lists the paused
   * phase beside its run): the recipe, phase and state, upserted when the state changes. Runs
   * started before this existed have no such upserts in their histories, hence the version.
   */
  private void upsertSearchAttributes() {
    if (status.state() == searchableState) {
      return;
    }
    if (phasesSearchable == null) {
      phasesSearchable =
          Workflow.getVersion("phase-search-attributes", Workflow.DEFAULT_VERSION, 1) >= 1;
    }
    if (!phasesSearchable) {
      return;
    }
    searchableState = status.state();
    Workflow.upsertTypedSearchAttributes(
        SearchKeys.RECIPE.valueSet(task.recipe()),
        SearchKeys.PHASE.valueSet(phase().name()),
        SearchKeys.STATE.valueSet(status.state().name()));
  }

  /** Shows the phase in the Web UI and tells the parent run at state changes and each tenth. */
  private void publish() {
    Workflow.setCurrentDetails(details());
    upsertSearchAttributes();
    Optional<String> parent = Workflow.getInfo().getParentWorkflowId();
    if (parent.isEmpty() || status.state().isFinal()) {
      return;
    }
    long length = Math.max(1, status.stepEnd() - status.stepStart());
    int decile = (int) Math.min(10, (status.step() - status.stepStart()) * 10 / length);
    if (status.state() == reportedState && decile <= reportedDecile && !pendingReasonChanged()) {
      return;
    }
    reportedState = status.state();
    reportedDecile = decile;
    reportedMessage = status.message();
    PhaseStatus report = status;
    if (reportsInBackground == null) {
      reportsInBackground =
          Workflow.getVersion("reports-in-background", Workflow.DEFAULT_VERSION, 1) >= 1;
    }
    if (reportsInBackground) {
      reportInBackground(parent.get(), report);
      return;
    }
    CurriculumWorkflow run =
        Workflow.newExternalWorkflowStub(CurriculumWorkflow.class, parent.get());
    if (!Signals.sendUnlessClosed(() -> run.phaseReport(report))) {
      log.info("run {} closed before this phase's progress reached it", parent.get());
    }
  }

  /**
   * Sends a report to the run without waiting for it to arrive: the phase goes on with its next
   * step at once (on a real server each delivery takes a round trip of tens of milliseconds, and a
   * phase reports a few times; waiting for them was most of a short phase's time). Reports go one
   * at a time, so the run sees them in order; one made while another is on its way waits, and a
   * newer one replaces it. Runs recorded before this replay with the reports sent one by one.
   */
  private void reportInBackground(String runId, PhaseStatus report) {
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
            reportInBackground(runId, next);
          }
          return null;
        });
  }

  /**
   * Waits until the reports on their way to the run have arrived. A phase that ended (or continued
   * as new) while one was still on its way had its last workflow task refused by the server, as an
   * event (the signal's delivery) came in meanwhile, and the run could end before the report
   * reached it. From {@code fewer-round-trips} on; runs recorded before end without waiting.
   */
  private void awaitReports() {
    if (reporting != null && fewerRoundTrips()) {
      Workflow.await(() -> reporting.isCompleted() && unsentReport == null);
    }
  }

  /**
   * Whether a pending phase now waits for something else (its servers, then capacity): the run
   * shows why its phase waits. From version 1 on; runs recorded before replay without it.
   */
  private boolean pendingReasonChanged() {
    return status.state() == PhaseState.PENDING
        && reportedState == PhaseState.PENDING
        && !java.util.Objects.equals(status.message(), reportedMessage)
        && Workflow.getVersion("report-pending-reasons", Workflow.DEFAULT_VERSION, 1) >= 1;
  }

  private String details() {
    StringBuilder out = new StringBuilder();
    out.append("**")
        .append(status.name())
        .append("** · ")
        .append(phase().frameworkWorkload())
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
        .append(
            snapshot != null && snapshot.checkpointStep() != null
                ? "checkpoint-" + snapshot.checkpointStep()
                : "–")
        .append(" | ")
        .append(job != null ? job.name() : "–")
        .append(" |\n");
    if (status.message() != null) {
      out.append("\n").append(status.message()).append('\n');
    }
    return out.toString();
  }

  // --- helpers ------------------------------------------------------------------------------

  private PhaseActivities activities(String summary) {
    return Workflow.newActivityStub(
        PhaseActivities.class, ActivityOptions.newBuilder(QUICK).setSummary(summary).build());
  }

  /** Tearing down waits for the job to save its checkpoint and end, so it gets longer. */
  private PhaseActivities teardownActivities(String summary) {
    return Workflow.newActivityStub(
        PhaseActivities.class,
        ActivityOptions.newBuilder(QUICK)
            .setSummary(summary)
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .build());
  }

  private Phase phase() {
    return task.phase();
  }

  private boolean stopWanted() {
    return pauseWanted || advanceWanted || skipWanted;
  }

  private String stopReason() {
    String what = skipWanted ? "skip" : advanceWanted ? "advance" : "pause";
    return reason == null || reason.isBlank() ? what : what + ": " + reason;
  }

  private String because() {
    return reason == null || reason.isBlank() ? "" : " (" + reason + ")";
  }

  private boolean shouldContinueAsNew() {
    WorkflowInfo info = Workflow.getInfo();
    return info.isContinueAsNewSuggested()
        || (task.maxHistoryEvents() > 0 && info.getHistoryLength() > task.maxHistoryEvents());
  }

  static String format(Double value) {
    return value == null ? "–" : String.format(Locale.ROOT, "%.4f", value);
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    String message = e.getMessage();
    while (t != null) {
      if (t instanceof ApplicationFailure app) {
        message = app.getOriginalMessage();
      }
      t = t.getCause();
    }
    return message;
  }
}
