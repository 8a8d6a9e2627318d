package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
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
 * handed from one to the next. The controls (pause, resume, advance, skip, as signals and as
 * updates) set what is wanted and are forwarded to the running phase by {@link RunControls}; the
 * main loop acts on what they want between phases. What the run shows to the Web UI and the {@code
 * status} query is {@link CurriculumView}'s part.
 */
public class CurriculumWorkflowImpl implements CurriculumWorkflow {
  private static final Logger log = Workflow.getLogger(CurriculumWorkflowImpl.class);

  private final RunInput input;
  private final Recipe recipe;
  private final List<StepRange> ranges;
  private final String runId;
  private final CurriculumView view;

  private final RunControls controls;

  /** Keeps the run's record; made when the run's workflow method starts. */
  private RunRecorder recorder;

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
    } else {
      view = CurriculumView.of(runId, recipe);
    }
    controls = new RunControls(runId, view, carried != null && carried.state() == RunState.PAUSED);
  }

  @Override
  public RunStatus run(RunInput runInput) {
    view.publish();
    recorder = new RunRecorder(input, runId);
    recorder.started(view.status());
    try {
      while (view.hasPhasesLeft()) {
        if (controls.paused()) {
          controls.holdWhilePaused();
        }
        if (controls.takeSkip()) {
          int skipped = view.phaseIndex();
          view.phaseSkipped("skipped before it started" + controls.because());
          recorder.phaseStopped(skipped, view.status());
          continue;
        }
        if (controls.paused()) {
          continue;
        }
        if (shouldContinueAsNew()) {
          log.info("run {} continues as new before phase {}", runId, view.phaseIndex());
          Workflow.await(Workflow::isEveryHandlerFinished);
          recorder.awaitWritten();
          Workflow.continueAsNew(input.withCarried(view.status().forCarrying()));
        }
        view.running();
        int index = view.phaseIndex();
        PhaseOutcome outcome = runPhase(index);
        controls.phaseEnded();
        if (outcome.jobEndedAt() != null) {
          lastJobEndedAt = outcome.jobEndedAt();
        }
        view.phaseEnded(outcome);
        recorder.phaseEnded(index, outcome, view.status());
      }
      view.setState(RunState.COMPLETED, null);
      recorder.ended(view.status());
      Workflow.await(Workflow::isEveryHandlerFinished);
      return view.status();
    } catch (ChildWorkflowFailure e) {
      boolean canceled = e.getCause() instanceof CanceledFailure;
      String why = canceled ? "its workflow was canceled" : PhaseWorkflowImpl.rootMessage(e);
      String message = view.phaseFailed(canceled ? PhaseState.CANCELED : PhaseState.FAILED, why);
      recorder.phaseStopped(view.phaseIndex(), view.status());
      recorder.ended(view.status());
      Workflow.await(Workflow::isEveryHandlerFinished);
      throw ApplicationFailure.newNonRetryableFailure(message, "PhaseFailed");
    } catch (CanceledFailure e) {
      Workflow.newDetachedCancellationScope(
              () -> {
                view.canceled();
                awaitPhaseTeardown();
                if (view.phaseIndex() < recipe.phases().size()) {
                  recorder.phaseStopped(view.phaseIndex(), view.status());
                }
                recorder.ended(view.status());
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
    Workflow.getWorkflowExecution(child).get();
    view.phaseStarted(i);
    recorder.phaseStarted(i, view.status());
    controls.forwardUntilEnded(child, result);
    return result.get();
  }

  /** After a cancel, waits until the running phase has torn its job down. */
  private void awaitPhaseTeardown() {
    Promise<PhaseOutcome> runningPhase = controls.runningPhase();
    if (runningPhase == null) {
      return;
    }
    try {
      runningPhase.get();
    } catch (TemporalFailure expected) {
      log.info("phase {} ended after the cancel: {}", view.phaseIndex(), expected.getMessage());
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

  // --- controls (RunControls) and query
  // ----------------------------------------------------------------------

  @Override
  public void pause(String reason) {
    controls.pause(reason);
  }

  @Override
  public void resume(String reason) {
    controls.resume(reason);
  }

  @Override
  public void advance(String reason) {
    controls.advance(reason);
  }

  @Override
  public void skip(String reason) {
    controls.skip(reason);
  }

  @Override
  public void validatePauseRun(String reason) {
    controls.validatePauseRun(reason);
  }

  @Override
  public ControlAnswer pauseRun(String reason) {
    return controls.pauseRun(reason);
  }

  @Override
  public void validateResumeRun(String reason) {
    controls.validateResumeRun(reason);
  }

  @Override
  public ControlAnswer resumeRun(String reason) {
    return controls.resumeRun(reason);
  }

  @Override
  public void validateAdvancePhase(String reason) {
    controls.validateAdvancePhase(reason);
  }

  @Override
  public ControlAnswer advancePhase(String reason) {
    return controls.advancePhase(reason);
  }

  @Override
  public void validateSkipPhase(String reason) {
    controls.validateSkipPhase(reason);
  }

  @Override
  public ControlAnswer skipPhase(String reason) {
    return controls.skipPhase(reason);
  }

  @Override
  public void phaseReport(PhaseStatus report) {
    view.phaseReported(report);
  }

  @Override
  public RunStatus status() {
    return view.status();
  }

  // --- helpers ------------------------------------------------------------------------------

  private boolean shouldContinueAsNew() {
    WorkflowInfo info = Workflow.getInfo();
    long max = input.settings().maxHistoryEvents();
    return info.isContinueAsNewSuggested() || (max > 0 && info.getHistoryLength() > max);
  }
}
