package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.common.SearchAttributes;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowCancellationType;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInfo;
import io.temporal.workflow.WorkflowInit;
import java.util.List;
import org.slf4j.Logger;

/**
 * A run of a recipe: its phases in order, each as a child {@link PhaseWorkflow}, with the triplet
 * handed from one to the next. Signals set what is wanted; the main loop and {@link #runPhase} act
 * on it, forwarding to the running phase. What the run shows to the Web UI and the {@code status}
 * query is {@link CurriculumView}'s part.
 */
public class CurriculumWorkflowImpl implements CurriculumWorkflow {
  private static final Logger log = Workflow.getLogger(CurriculumWorkflowImpl.class);

  private final RunInput input;
  private final Recipe recipe;
  private final List<StepRange> ranges;
  private final String runId;
  private final CurriculumView view;

  private boolean paused;
  private boolean advancePending;
  private boolean skipPending;
  private String reason;
  private Promise<PhaseOutcome> runningPhase;

  /** The run waits between phases because it is paused. */
  private boolean holding;

  /** The phase an advance or a skip is ending, or -1: a second one is refused. */
  private int endingPhase = -1;

  /** What the running phase was told: a pause is in force there. */
  private boolean phasePaused;

  /** How many controls the running phase was sent; its reports say how many it heard. */
  private int forwarded;

  /** {@link #forwarded} just after the latest pause, and resume, reached the running phase. */
  private int pauseForwardedAt;

  private int resumeForwardedAt;

  /** When the latest phase's job ended: the next phase's handoff starts there (metrics only). */
  private Long lastJobEndedAt;

  @WorkflowInit
  public CurriculumWorkflowImpl(RunInput input) {
    this.input = input;
    this.recipe = input.recipe();
    this.ranges = recipe.stepRanges();
    this.runId = Workflow.getInfo().getWorkflowId();
    RunStatus carried = input.carried();
    if (carried != null) {
      view = CurriculumView.restored(runId, recipe, carried);
      paused = carried.state() == RunState.PAUSED;
    } else {
      view = CurriculumView.of(runId, recipe);
    }
  }

  @Override
  public RunStatus run(RunInput runInput) {
    view.publish();
    try {
      while (view.hasPhasesLeft()) {
        if (paused) {
          view.paused();
          holding = true;
          Workflow.await(() -> !paused || skipPending);
          holding = false;
        }
        if (skipPending) {
          skipPending = false;
          view.phaseSkipped("skipped before it started" + because());
          continue;
        }
        if (paused) {
          continue;
        }
        if (shouldContinueAsNew()) {
          log.info("run {} continues as new before phase {}", runId, view.phaseIndex());
          Workflow.await(Workflow::isEveryHandlerFinished);
          Workflow.continueAsNew(input.withCarried(view.status().forCarrying()));
        }
        view.running();
        PhaseOutcome outcome = runPhase(view.phaseIndex());
        advancePending = false;
        if (outcome.jobEndedAt() != null) {
          lastJobEndedAt = outcome.jobEndedAt();
        }
        view.phaseEnded(outcome);
      }
      view.setState(RunState.COMPLETED, null);
      Workflow.await(Workflow::isEveryHandlerFinished);
      return view.status();
    } catch (ChildWorkflowFailure e) {
      boolean canceled = e.getCause() instanceof CanceledFailure;
      String why = canceled ? "its workflow was canceled" : PhaseWorkflowImpl.rootMessage(e);
      String message = view.phaseFailed(canceled ? PhaseState.CANCELED : PhaseState.FAILED, why);
      Workflow.await(Workflow::isEveryHandlerFinished);
      throw ApplicationFailure.newNonRetryableFailure(message, "PhaseFailed");
    } catch (CanceledFailure e) {
      Workflow.newDetachedCancellationScope(
              () -> {
                view.canceled();
                awaitPhaseTeardown();
              })
          .run();
      throw e;
    }
  }

  /**
   * Runs phase {@code i} as a child workflow and forwards pause, resume, advance and skip to it
   * until it ends. A cancel of this run cancels the child and waits for its teardown.
   */
  private PhaseOutcome runPhase(int i) {
    Phase phase = recipe.phases().get(i);
    PhaseTask task =
        new PhaseTask(
            runId,
            recipe.name(),
            i,
            phase,
            ranges.get(i),
            recipe.schedule().totalSteps(),
            view.triplet(),
            dataFor(i),
            input.settings().reportEveryMillis(),
            input.settings().maxHistoryEvents(),
            null,
            lastJobEndedAt);
    ChildWorkflowOptions options =
        ChildWorkflowOptions.newBuilder()
            .setWorkflowId(Names.phaseWorkflowId(runId, i, phase.name()))
            .setStaticSummary(
                "phase "
                    + phase.name()
                    + ": "
                    + phase.frameworkWorkload()
                    + ", steps "
                    + ranges.get(i)
                    + " of "
                    + recipe.schedule().totalSteps())
            .setCancellationType(ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED)
            .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
            .setTypedSearchAttributes(
                SearchAttributes.newBuilder()
                    .set(SearchKeys.RECIPE, recipe.name())
                    .set(SearchKeys.PHASE, phase.name())
                    .build())
            .build();
    PhaseWorkflow child = Workflow.newChildWorkflowStub(PhaseWorkflow.class, options);
    Promise<PhaseOutcome> result = Async.function(child::run, task);
    runningPhase = result;
    phasePaused = false;
    forwarded = 0;
    pauseForwardedAt = 0;
    resumeForwardedAt = 0;
    Workflow.getWorkflowExecution(child).get();
    view.phaseStarted(i);

    while (!result.isCompleted()) {
      Workflow.await(
          () -> result.isCompleted() || paused != phasePaused || advancePending || skipPending);
      if (result.isCompleted()) {
        break;
      }
      String why = reason;
      if (paused != phasePaused) {
        phasePaused = paused;
        boolean pause = paused;
        signal(
            () -> {
              if (pause) {
                child.pause(why);
              } else {
                child.resume(why);
              }
            });
        forwarded++;
        if (pause) {
          pauseForwardedAt = forwarded;
        } else {
          resumeForwardedAt = forwarded;
        }
      }
      if (advancePending) {
        advancePending = false;
        signal(() -> child.advance(why));
        forwarded++;
      }
      if (skipPending) {
        skipPending = false;
        signal(() -> child.skip(why));
        forwarded++;
      }
    }
    return result.get();
  }

  /** After a cancel, waits until the running phase has torn its job down. */
  private void awaitPhaseTeardown() {
    if (runningPhase == null) {
      return;
    }
    try {
      runningPhase.get();
    } catch (TemporalFailure expected) {
      log.info("phase {} ended after the cancel: {}", view.phaseIndex(), expected.getMessage());
    }
  }

  /** Signals the running phase; one that has just ended is fine to miss. */
  private void signal(Runnable send) {
    if (!Signals.sendUnlessClosed(send)) {
      log.info("phase {} ended before a signal reached it", view.phaseIndex());
    }
  }

  /** The data phase {@code i} trains on: its own, or the nearest earlier phase's. */
  private DataSpec dataFor(int i) {
    for (int j = i; j >= 0; j--) {
      DataSpec data = recipe.phases().get(j).data();
      if (data != null) {
        return data;
      }
    }
    return null;
  }

  // --- signals and query ----------------------------------------------------------------------

  @Override
  public void pause(String reason) {
    if (view.hasEnded()) {
      return;
    }
    this.reason = reason;
    paused = true;
    view.setState(RunState.PAUSED, "paused" + because());
  }

  @Override
  public void resume(String reason) {
    if (view.hasEnded()) {
      return;
    }
    this.reason = reason;
    paused = false;
    view.setState(RunState.RUNNING, null);
  }

  @Override
  public void advance(String reason) {
    if (view.hasEnded() || !view.hasPhasesLeft()) {
      return;
    }
    this.reason = reason;
    advancePending = true;
    endingPhase = view.phaseIndex();
  }

  @Override
  public void skip(String reason) {
    if (view.hasEnded() || !view.hasPhasesLeft()) {
      return;
    }
    this.reason = reason;
    skipPending = true;
    endingPhase = view.phaseIndex();
  }

  @Override
  public void phaseReport(PhaseStatus report) {
    view.phaseReported(report);
  }

  @Override
  public RunStatus status() {
    return view.status();
  }

  // --- controls that answer (Workflow Updates) ------------------------------------------------
  //
  // Each validator refuses, with the reason, a control that cannot be honoured: the refusal is not
  // written to the history. Each handler does what the signal of the same name does, then waits
  // until it took effect and says what happened.

  @Override
  public void validatePauseRun(String reason) {
    refuseWhenEnded("pause");
    if (paused) {
      throw refused(
          "run " + runId + " is already paused; `syllabus resume " + runId + "` resumes it");
    }
  }

  @Override
  public ControlAnswer pauseRun(String reason) {
    pause(reason);
    Workflow.await(this::pauseTookEffect);
    return ControlAnswers.paused(runId, view, paused, holding);
  }

  @Override
  public void validateResumeRun(String reason) {
    refuseWhenEnded("resume");
    if (!paused) {
      throw refused("run " + runId + " is not paused");
    }
  }

  @Override
  public ControlAnswer resumeRun(String reason) {
    resume(reason);
    Workflow.await(this::resumeTookEffect);
    return ControlAnswers.resumed(runId, view, paused);
  }

  @Override
  public void validateAdvancePhase(String reason) {
    refuseWhenEnded("advance");
    if (!phaseRunning()) {
      throw refused(
          "no phase of run "
              + runId
              + " is running: advance ends a running phase at its latest checkpoint"
              + " (skip passes over the next phase)");
    }
    PhaseStatus phase = view.phase(view.phaseIndex());
    refuseWhenEnding(phase);
    if (phase.checkpoint() == null) {
      throw refused(
          "phase '"
              + phase.name()
              + "' of run "
              + runId
              + " has not saved a complete checkpoint yet, so there is nothing to hand on;"
              + " wait for its first checkpoint, or skip it");
    }
  }

  @Override
  public ControlAnswer advancePhase(String reason) {
    int i = view.phaseIndex();
    advance(reason);
    Workflow.await(() -> view.hasEnded() || view.phaseIndex() > i);
    return ControlAnswers.advanced(runId, view, i);
  }

  @Override
  public void validateSkipPhase(String reason) {
    refuseWhenEnded("skip");
    if (!view.hasPhasesLeft()) {
      throw refused("run " + runId + " has no phase left to skip");
    }
    refuseWhenEnding(view.phase(view.phaseIndex()));
  }

  @Override
  public ControlAnswer skipPhase(String reason) {
    int i = view.phaseIndex();
    Triplet input = view.triplet();
    skip(reason);
    Workflow.await(() -> view.hasEnded() || view.phaseIndex() > i);
    return ControlAnswers.skipped(runId, view, i, input);
  }

  /**
   * Whether a pause has taken effect: the running phase says it is paused, having heard the pause
   * (its job saved a checkpoint and is gone), or the run holds before its next phase. Also true
   * once it never will: the run ended, or a resume came first.
   */
  private boolean pauseTookEffect() {
    if (view.hasEnded() || !paused || holding) {
      return true;
    }
    if (!phaseRunning()) {
      return false;
    }
    PhaseStatus phase = view.phase(view.phaseIndex());
    return phasePaused
        && phase.state() == PhaseState.PAUSED
        && phase.controls() >= pauseForwardedAt;
  }

  /**
   * Whether a resume has taken effect: the phase that was paused has heard it and its job was
   * started again, or the next phase has started. Also true once it never will: the run ended, or a
   * pause came after it.
   */
  private boolean resumeTookEffect() {
    if (view.hasEnded() || paused) {
      return true;
    }
    if (!phaseRunning()) {
      return false;
    }
    PhaseStatus phase = view.phase(view.phaseIndex());
    return !phasePaused
        && phase.state() != PhaseState.PAUSED
        && phase.controls() >= resumeForwardedAt;
  }

  private boolean phaseRunning() {
    return runningPhase != null && !runningPhase.isCompleted();
  }

  private void refuseWhenEnded(String control) {
    if (view.hasEnded()) {
      RunStatus status = view.status();
      throw refused(
          "run "
              + runId
              + " has ended ("
              + status.state()
              + (status.message() == null ? "" : ": " + status.message())
              + "); there is nothing to "
              + control);
    }
  }

  private void refuseWhenEnding(PhaseStatus phase) {
    if (endingPhase == phase.index()) {
      throw refused(
          "phase '" + phase.name() + "' of run " + runId + " is already ending (advance or skip)");
    }
  }

  private static ApplicationFailure refused(String why) {
    return ApplicationFailure.newNonRetryableFailure(why, "ControlRefused");
  }

  // --- helpers ------------------------------------------------------------------------------

  private String because() {
    return reason == null || reason.isBlank() ? "" : " (" + reason + ")";
  }

  private boolean shouldContinueAsNew() {
    WorkflowInfo info = Workflow.getInfo();
    long max = input.settings().maxHistoryEvents();
    return info.isContinueAsNewSuggested() || (max > 0 && info.getHistoryLength() > max);
  }
}
