package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.Launch;
import dev.syllabus.workflows.job.PhaseProgress;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.job.Wanted;
import dev.syllabus.workflows.recipe.Deadlines;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInfo;
import io.temporal.workflow.WorkflowInit;
import java.util.Locale;
import org.slf4j.Logger;

/**
 * One phase, top to bottom: render, start the job (its servers first), follow it until it ends,
 * collect its checkpoint, tear down. Signals only set what is {@link Wanted} (pause, advance,
 * skip); the loop in {@link #runPhase} acts on it at the next step, so every transition is visible
 * here. What the phase shows to the Web UI and reports to its run is {@link PhaseView}'s part.
 */
public class PhaseWorkflowImpl implements PhaseWorkflow {
  private static final Logger log = Workflow.getLogger(PhaseWorkflowImpl.class);

  /** Where the loop goes next: the phase ended, or it continues as new with its job running. */
  private sealed interface Turn permits Ended, ContinueAsNew {}

  /** What following the job came to: it ended, or the phase continues as new meanwhile. */
  private sealed interface Followed permits JobEnded, ContinueAsNew {}

  private record Ended(PhaseOutcome outcome) implements Turn {}

  private record JobEnded(JobSnapshot last) implements Followed {}

  /** The history is long: the phase goes on in a new run, carrying its {@link PhaseProgress}. */
  private record ContinueAsNew() implements Turn, Followed {}

  private PhaseTask task;
  private PhaseView view;
  private Wanted wanted = Wanted.NOTHING;

  /** The attempt's job, or null before the first attempt and after a failed one. */
  private JobRef job;

  private RenderedPhase rendered;
  private JobSnapshot snapshot;
  private boolean jobStopped;
  private boolean stopSent;
  private int failures;
  private Long capacitySince;
  private Promise<Void> tearingDown;

  /**
   * Since {@value #CONTROLS_ANSWERED}: the run hears of every control the phase heard, so that it
   * can answer the person who sent it once it took effect (the run's controls are Workflow
   * Updates).
   */
  private boolean controlsAnswered;

  static final String CONTROLS_ANSWERED = "controls-answered";

  @WorkflowInit
  public PhaseWorkflowImpl(PhaseTask task) {
    this.task = task;
    restore(task);
  }

  @Override
  public PhaseOutcome run(PhaseTask task) {
    controlsAnswered =
        Workflow.getVersion(CONTROLS_ANSWERED, Workflow.DEFAULT_VERSION, 1)
            != Workflow.DEFAULT_VERSION;
    if (controlsAnswered) {
      view.reportControls();
    }
    view.publish();
    Turn turn;
    try {
      turn = runPhase();
    } catch (CanceledFailure e) {
      view.setState(PhaseState.CANCELED, "canceled");
      tearDown();
      throw e;
    } catch (TemporalFailure e) {
      view.setState(PhaseState.FAILED, rootMessage(e));
      tearDown();
      throw e;
    }
    view.awaitReports();
    if (turn instanceof Ended ended) {
      tearDown();
      return ended.outcome();
    }
    log.info("phase {} continues as new at step {}", phase().name(), view.status().step());
    Workflow.continueAsNew(task.withCarried(progress()));
    throw new IllegalStateException("unreachable: continueAsNew does not return");
  }

  private Turn runPhase() {
    while (true) {
      if (wanted.skip()) {
        return end(PhaseState.SKIPPED, task.input(), null, "skipped" + wanted.because());
      }
      if (wanted.advance() && (job == null || jobStopped)) {
        return advanced();
      }
      if (wanted.pause()) {
        view.setState(PhaseState.PAUSED, "paused" + wanted.because());
        int heard = view.status().controls();
        Workflow.await(
            () ->
                !wanted.pause()
                    || wanted.skip()
                    || wanted.advance()
                    || (controlsAnswered && view.status().controls() != heard));
        continue;
      }
      if (job == null && !startAttempt()) {
        continue;
      }
      if (jobStopped && !resumeJob()) {
        continue;
      }
      view.showJob(snapshot);

      Followed followed = follow();
      if (followed instanceof ContinueAsNew goOn) {
        return goOn;
      }
      JobSnapshot last = ((JobEnded) followed).last();
      switch (last.state()) {
        case SUCCEEDED -> {
          if (wanted.skip()) {
            return end(PhaseState.SKIPPED, task.input(), null, "skipped" + wanted.because());
          }
          tearDownInBackground("phase ended completed");
          Handoff handoff = collect();
          return end(
              PhaseState.COMPLETED, handoff.output(), handoff.checkpointStep(), handoff.message());
        }
        case STOPPED -> {
          // Stopped on request: the top of the loop pauses, advances or skips, or resumes the
          // job if the pause was withdrawn before it took effect.
          jobStopped = true;
          stopSent = false;
        }
        case FAILED -> retryOrFail(last);
        default -> throw new IllegalStateException("follow returned " + last.state());
      }
    }
  }

  /**
   * Renders the next attempt and starts its job: in one activity when the phase has no servers;
   * else its servers first, and the job once they are ready. Returns false when a pause, advance or
   * skip came while the servers started (they are torn down, so a pause frees their GPUs).
   */
  private boolean startAttempt() {
    int attempt = view.status().attempt() + 1;
    Launch launch =
        PhaseSteps.quick(
                "render and submit "
                    + phase().frameworkWorkload()
                    + " for phase "
                    + phase().name()
                    + " (attempt "
                    + attempt
                    + ")")
            .launch(task, attempt);
    rendered = launch.rendered();
    job = rendered.job();
    view.attemptStarted(job);
    JobSnapshot started = launch.started();
    if (started == null) {
      PhaseSteps.quick("submit the servers of phase " + phase().name()).submitServers(rendered);
      if (!serversReady()) {
        JobRef starting = job;
        PhaseSteps.teardown("tear down the servers of phase " + phase().name())
            .teardown(starting, wanted.stopReason());
        job = null;
        return false;
      }
      started =
          PhaseSteps.quick("submit " + phase().frameworkWorkload() + " for phase " + phase().name())
              .startJob(rendered);
    }
    snapshot = started;
    jobStopped = false;
    stopSent = false;
    return true;
  }

  /**
   * Starts the stopped job again from its latest checkpoint: its servers first, when it has any,
   * and the job once they are ready. Returns false when a pause, advance or skip came while the
   * servers started again (they are stopped again, so a pause frees their GPUs).
   */
  private boolean resumeJob() {
    if (rendered.hasServers()) {
      PhaseSteps.quick("start the servers of phase " + phase().name() + " again")
          .resumeServers(job);
      if (!serversReady()) {
        PhaseSteps.quick("stop the servers of phase " + phase().name())
            .stopJob(job, wanted.stopReason());
        return false;
      }
    }
    snapshot = PhaseSteps.quick("resume job " + job.name()).resumeJob(job);
    jobStopped = false;
    stopSent = false;
    return true;
  }

  /**
   * Waits until the phase's servers are ready, up to the recipe's ready deadline. Returns false
   * when a pause, skip or advance came first; the caller stops them.
   */
  private boolean serversReady() {
    long limit = phase().deadlines().readyMillis();
    long started = Workflow.currentTimeMillis();
    while (true) {
      ServersStatus servers =
          PhaseSteps.quick("wait for the servers of phase " + phase().name())
              .awaitServers(rendered, task.reportEveryMillis());
      if (servers.ready()) {
        return true;
      }
      if (servers.permanent()) {
        throw phaseFailed(": its servers cannot start: " + servers.waitingFor());
      }
      if (limit > 0 && Workflow.currentTimeMillis() - started > limit) {
        throw phaseFailed(
            ": its servers were not ready within "
                + Deadlines.format(limit)
                + " (deadlines.ready): still waiting for "
                + servers.waitingFor());
      }
      view.setState(PhaseState.PENDING, "waiting for servers: " + servers.waitingFor());
      if (wanted.stop()) {
        return false;
      }
    }
  }

  /**
   * Follows the running job, bringing its progress back every few seconds, until it ends or the
   * history is long enough to continue as new. Sends the stop a pause, advance or skip asks for
   * while it waits.
   */
  private Followed follow() {
    PhaseActivities follower = PhaseSteps.follower(job, task.reportEveryMillis());
    while (true) {
      Promise<JobSnapshot> next =
          Async.function(follower::followJob, job, snapshot, task.reportEveryMillis());
      // A cancel abandons this promise; mark it handled so its failure is not reported as lost.
      next.handle((seen, failure) -> seen);
      while (!next.isCompleted()) {
        Workflow.await(() -> next.isCompleted() || (wanted.stop() && !stopSent));
        if (!next.isCompleted()) {
          PhaseSteps.quick("stop job " + job.name() + wanted.because())
              .stopJob(job, wanted.stopReason());
          stopSent = true;
          view.stopSent(wanted);
        }
      }
      snapshot = next.get();
      view.observe(snapshot);
      if (snapshot.state().hasEnded()) {
        return new JobEnded(snapshot);
      }
      checkCapacityDeadline();
      if (historyIsLong()) {
        return new ContinueAsNew();
      }
    }
  }

  private void retryOrFail(JobSnapshot failed) {
    failures++;
    String why = failed.message() != null ? failed.message() : "the job failed";
    JobRef failedJob = job;
    PhaseSteps.teardown("tear down failed job " + failedJob.name()).teardown(failedJob, why);
    job = null;
    if (failed.permanent()) {
      throw phaseFailed(
          " failed: " + why + " (not retried: another attempt would fail the same way)");
    }
    if (failures > phase().retries()) {
      throw phaseFailed(
          " failed after " + failures + " attempt" + (failures == 1 ? "" : "s") + ": " + why);
    }
    log.warn(
        "phase {} attempt {} failed ({}); starting another",
        phase().name(),
        view.status().attempt(),
        why);
    view.retrying(why);
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
      throw phaseFailed(
          " found no room in the cluster within "
              + Deadlines.format(limit)
              + " (deadlines.capacity): "
              + snapshot.message());
    }
  }

  private Ended advanced() {
    if (job == null) {
      return end(
          PhaseState.ADVANCED,
          task.input(),
          null,
          "advanced before its job started; the input passes on" + wanted.because());
    }
    Handoff handoff = collect();
    return end(
        PhaseState.ADVANCED,
        handoff.output(),
        handoff.checkpointStep(),
        "advanced" + wanted.because() + ": " + handoff.message());
  }

  private Ended end(PhaseState state, Triplet output, Long checkpointStep, String message) {
    return new Ended(view.end(state, output, checkpointStep, message));
  }

  /** Hands the phase's latest complete checkpoint on. */
  private Handoff collect() {
    return PhaseSteps.collector("collect the checkpoint of phase " + phase().name())
        .collect(task, job);
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
                        PhaseSteps.teardown("tear down job " + last.name())::teardown, last, why))
        .run();
  }

  /** Removes what the phase's job left, even when the phase was canceled. */
  private void tearDown() {
    if (job == null) {
      return;
    }
    JobRef last = job;
    String why = "phase ended " + view.status().state().name().toLowerCase(Locale.ROOT);
    Workflow.newDetachedCancellationScope(
            () -> {
              if (tearingDown != null) {
                tearingDown.get();
              } else {
                PhaseSteps.teardown("tear down job " + last.name()).teardown(last, why);
              }
            })
        .run();
  }

  // --- signals and query ----------------------------------------------------------------------

  @Override
  public void pause(String reason) {
    wanted = wanted.pausing(reason);
    view.controlHeard();
  }

  @Override
  public void resume(String reason) {
    wanted = wanted.resuming(reason);
    view.controlHeard();
  }

  @Override
  public void advance(String reason) {
    wanted = wanted.advancing(reason);
    view.controlHeard();
  }

  @Override
  public void skip(String reason) {
    wanted = wanted.skipping(reason);
    view.controlHeard();
  }

  @Override
  public PhaseStatus status() {
    return view.status();
  }

  // --- continue-as-new ------------------------------------------------------------------------

  private void restore(PhaseTask task) {
    PhaseProgress carried = task.carried();
    if (carried == null) {
      view = PhaseView.of(task);
      return;
    }
    view = PhaseView.restored(task, carried);
    job = carried.job();
    rendered = carried.rendered();
    snapshot = carried.snapshot();
    jobStopped = carried.jobStopped();
    stopSent = carried.stopSent();
    wanted = carried.wanted();
    failures = carried.failures();
    capacitySince = carried.capacitySince();
  }

  private PhaseProgress progress() {
    return new PhaseProgress(
        view.status(),
        job,
        rendered,
        snapshot,
        jobStopped,
        stopSent,
        wanted,
        failures,
        capacitySince);
  }

  private boolean historyIsLong() {
    WorkflowInfo info = Workflow.getInfo();
    return info.isContinueAsNewSuggested()
        || (task.maxHistoryEvents() > 0 && info.getHistoryLength() > task.maxHistoryEvents());
  }

  // --- helpers ------------------------------------------------------------------------------

  private Phase phase() {
    return task.phase();
  }

  /**
   * The phase fails for good: Temporal does not retry it, as the phase retries its job itself
   * ({@link #retryOrFail}). {@code why} follows the phase's quoted name.
   */
  private ApplicationFailure phaseFailed(String why) {
    return ApplicationFailure.newNonRetryableFailure(
        "phase '" + phase().name() + "'" + why, "PhaseFailed");
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
