package dev.syllabus.workflows;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;

/**
 * A run of a recipe: its phases in order, each as a child {@link PhaseWorkflow}, with the triplet
 * handed from one to the next. Signals set what is wanted; the main loop and {@link #runPhase} act
 * on it, forwarding to the running phase.
 */
public class CurriculumWorkflowImpl implements CurriculumWorkflow {
  private static final Logger log = Workflow.getLogger(CurriculumWorkflowImpl.class);

  private final RunInput input;
  private final Recipe recipe;
  private final List<StepRange> ranges;
  private final String runId;
  private final List<PhaseStatus> phases = new ArrayList<>();
  private int index;
  private Triplet triplet;
  private RunState state;
  private String message;

  private boolean paused;
  private boolean advancePending;
  private boolean skipPending;
  private String reason;
  private Promise<PhaseOutcome> runningPhase;

  /** What the Web UI last got, so that search attributes are only upserted when they change. */
  private List<Object> published = List.of();

  @WorkflowInit
  public CurriculumWorkflowImpl(RunInput input) {
    this.input = input;
    this.recipe = input.recipe();
    this.ranges = recipe.stepRanges();
    this.runId = Workflow.getInfo().getWorkflowId();
    RunStatus carried = input.carried();
    if (carried != null) {
      phases.addAll(carried.phases());
      index = carried.phaseIndex();
      triplet = carried.artifacts();
      state = carried.state();
      paused = carried.state() == RunState.PAUSED;
      message = carried.message();
    } else {
      for (int i = 0; i < recipe.phases().size(); i++) {
        Phase phase = recipe.phases().get(i);
        StepRange range = ranges.get(i);
        phases.add(
            new PhaseStatus(
                i,
                phase.name(),
                phase.framework(),
                phase.workload(),
                PhaseState.PENDING,
                range.start(),
                range.end(),
                range.start(),
                null,
                null,
                0,
                null,
                null));
      }
      ArtifactRef model =
          recipe.model() == null
              ? null
              : ArtifactRef.external(ArtifactRef.Kind.MODEL, recipe.model().base());
      triplet = new Triplet(model, null, null);
      state = RunState.RUNNING;
    }
  }

  @Override
  public RunStatus run(RunInput runInput) {
    publish();
    try {
      while (index < phases.size()) {
        if (paused) {
          state = RunState.PAUSED;
          publish();
          Workflow.await(() -> !paused || skipPending);
        }
        if (skipPending) {
          skipPending = false;
          phases.set(
              index,
              phases
                  .get(index)
                  .withState(PhaseState.SKIPPED, "skipped before it started" + because()));
          index++;
          publish();
          continue;
        }
        if (paused) {
          continue;
        }
        if (shouldContinueAsNew()) {
          log.info("run {} continues as new before phase {}", runId, index);
          Workflow.continueAsNew(input.withCarried(status().forCarrying()));
        }
        state = RunState.RUNNING;
        PhaseOutcome outcome = runPhase(index);
        phases.set(index, outcome.status());
        triplet = outcome.output();
        advancePending = false;
        index++;
        publish();
      }
      state = RunState.COMPLETED;
      message = null;
      publish();
      return status();
    } catch (ChildWorkflowFailure e) {
      PhaseStatus phase = phases.get(index);
      boolean canceled = e.getCause() instanceof CanceledFailure;
      String why = canceled ? "its workflow was canceled" : PhaseWorkflowImpl.rootMessage(e);
      phases.set(index, phase.withState(canceled ? PhaseState.CANCELED : PhaseState.FAILED, why));
      state = RunState.FAILED;
      message = "phase " + index + " '" + phase.name() + "' failed: " + why;
      publish();
      throw ApplicationFailure.newNonRetryableFailure(message, "PhaseFailed");
    } catch (CanceledFailure e) {
      state = RunState.CANCELED;
      message = "canceled";
      if (index < phases.size() && !phases.get(index).state().isFinal()) {
        phases.set(index, phases.get(index).withState(PhaseState.CANCELED, "the run was canceled"));
      }
      Workflow.newDetachedCancellationScope(
              () -> {
                publish();
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
            triplet,
            dataFor(i),
            input.settings().reportEveryMillis(),
            input.settings().maxHistoryEvents(),
            null);
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
    Workflow.getWorkflowExecution(child).get();
    phases.set(i, phases.get(i).withState(PhaseState.RUNNING, null));
    publish();

    boolean childPaused = false;
    while (!result.isCompleted()) {
      boolean forwardedPause = childPaused;
      Workflow.await(
          () -> result.isCompleted() || paused != forwardedPause || advancePending || skipPending);
      if (result.isCompleted()) {
        break;
      }
      String why = reason;
      if (paused != childPaused) {
        childPaused = paused;
        signal(
            () -> {
              if (paused) {
                child.pause(why);
              } else {
                child.resume(why);
              }
            });
      }
      if (advancePending) {
        advancePending = false;
        signal(() -> child.advance(why));
      }
      if (skipPending) {
        skipPending = false;
        signal(() -> child.skip(why));
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
      log.info("phase {} ended after the cancel: {}", index, expected.getMessage());
    }
  }

  /** Signals the running phase; one that has just ended is fine to miss. */
  private void signal(Runnable send) {
    if (!Signals.sendUnlessClosed(send)) {
      log.info("phase {} ended before a signal reached it", index);
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
    if (state.isFinal()) {
      return;
    }
    this.reason = reason;
    paused = true;
    state = RunState.PAUSED;
    message = "paused" + because();
    publish();
  }

  @Override
  public void resume(String reason) {
    if (state.isFinal()) {
      return;
    }
    this.reason = reason;
    paused = false;
    state = RunState.RUNNING;
    message = null;
    publish();
  }

  @Override
  public void advance(String reason) {
    if (state.isFinal() || index >= phases.size()) {
      return;
    }
    this.reason = reason;
    advancePending = true;
  }

  @Override
  public void skip(String reason) {
    if (state.isFinal() || index >= phases.size()) {
      return;
    }
    this.reason = reason;
    skipPending = true;
  }

  @Override
  public void phaseReport(PhaseStatus report) {
    if (report.index() != index || index >= phases.size() || phases.get(index).state().isFinal()) {
      return;
    }
    phases.set(index, report);
    publish();
  }

  @Override
  public RunStatus status() {
    long total = recipe.schedule().totalSteps();
    long step;
    if (index < phases.size()) {
      step = phases.get(index).step();
    } else {
      step = phases.isEmpty() ? 0 : phases.get(phases.size() - 1).step();
    }
    int shownIndex = Math.min(index, phases.size() - 1);
    return new RunStatus(
        runId,
        recipe.name(),
        state,
        step,
        total,
        recipe.schedule().timeAt(step),
        shownIndex,
        phases,
        triplet,
        message);
  }

  // --- what the Web UI shows ------------------------------------------------------------------

  private void publish() {
    RunStatus now = status();
    Workflow.setCurrentDetails(details(now));
    PhaseStatus current = now.currentPhase();
    List<Object> values =
        List.of(now.state().name(), current == null ? "" : current.name(), now.step());
    if (values.equals(published)) {
      return;
    }
    published = values;
    Workflow.upsertTypedSearchAttributes(
        SearchKeys.RECIPE.valueSet(recipe.name()),
        SearchKeys.STATE.valueSet(now.state().name()),
        SearchKeys.PHASE.valueSet(current == null ? "" : current.name()),
        SearchKeys.STEP.valueSet(now.step()),
        SearchKeys.PROGRESS.valueSet(now.t()));
  }

  /** The run as a Markdown table, for the Web UI's current details. */
  static String details(RunStatus s) {
    StringBuilder out = new StringBuilder();
    out.append("**")
        .append(s.recipe())
        .append("** · ")
        .append(s.state())
        .append(" · step ")
        .append(s.step())
        .append(" / ")
        .append(s.totalSteps())
        .append(String.format(Locale.ROOT, " (t = %.3f)", s.t()));
    if (s.message() != null) {
      out.append(" · ").append(s.message());
    }
    out.append("\n\n| # | phase | state | steps | step | loss | eval loss | model |\n")
        .append("|---|---|---|---|---|---|---|---|\n");
    for (PhaseStatus p : s.phases()) {
      String model =
          p.artifacts() != null && p.artifacts().model() != null
              ? p.artifacts().model().path() != null
                  ? p.artifacts().model().path()
                  : p.artifacts().model().uri()
              : "–";
      out.append("| ")
          .append(p.index())
          .append(" | ")
          .append(p.name())
          .append(" (")
          .append(p.framework())
          .append('/')
          .append(p.workload())
          .append(')')
          .append(" | ")
          .append(p.state())
          .append(" | [")
          .append(p.stepStart())
          .append(", ")
          .append(p.stepEnd())
          .append(')')
          .append(" | ")
          .append(p.step())
          .append(" | ")
          .append(PhaseView.format(p.loss()))
          .append(" | ")
          .append(PhaseView.format(p.evalLoss()))
          .append(" | ")
          .append(model)
          .append(" |\n");
    }
    return out.toString();
  }

  private String because() {
    return reason == null || reason.isBlank() ? "" : " (" + reason + ")";
  }

  private boolean shouldContinueAsNew() {
    WorkflowInfo info = Workflow.getInfo();
    long max = input.settings().maxHistoryEvents();
    return info.isContinueAsNewSuggested() || (max > 0 && info.getHistoryLength() > max);
  }
}
