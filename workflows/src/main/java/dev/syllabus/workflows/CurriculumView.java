package dev.syllabus.workflows;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a run shows: its {@link RunStatus} as the {@code status} query returns it, as the Web UI
 * draws it (current details and search attributes) and as Prometheus sees it (the states of the run
 * and its phases, {@link PhaseMetrics#showStates}), with the phases' statuses as they report them.
 * Part of {@link CurriculumWorkflowImpl}, so deterministic like it.
 */
final class CurriculumView {
  private final String runId;
  private final Recipe recipe;
  private final List<PhaseStatus> phases;
  private int index;
  private Triplet triplet;
  private RunState state;
  private String message;

  /** What the Web UI last got, so that search attributes are only upserted when they change. */
  private List<Object> published = List.of();

  private CurriculumView(
      String runId,
      Recipe recipe,
      List<PhaseStatus> phases,
      int index,
      Triplet triplet,
      RunState state,
      String message) {
    this.runId = runId;
    this.recipe = recipe;
    this.phases = new ArrayList<>(phases);
    this.index = index;
    this.triplet = triplet;
    this.state = state;
    this.message = message;
  }

  /** A run about to start: every phase PENDING at its first step, the recipe's model to start. */
  static CurriculumView of(String runId, Recipe recipe) {
    List<PhaseStatus> phases = new ArrayList<>();
    List<StepRange> ranges = recipe.stepRanges();
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
              null,
              null,
              0));
    }
    ArtifactRef model =
        recipe.model() == null
            ? null
            : ArtifactRef.external(ArtifactRef.Kind.MODEL, recipe.model().base());
    return new CurriculumView(
        runId, recipe, phases, 0, new Triplet(model, null, null), RunState.RUNNING, null);
  }

  /** A run that continued as new: as it was shown when it did. */
  static CurriculumView restored(String runId, Recipe recipe, RunStatus carried) {
    return new CurriculumView(
        runId,
        recipe,
        carried.phases(),
        carried.phaseIndex(),
        carried.artifacts(),
        carried.state(),
        carried.message());
  }

  RunStatus status() {
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

  /** The phase running or next to run; the number of phases once they have all ended. */
  int phaseIndex() {
    return index;
  }

  /** Phase {@code i} as last seen: as it reported itself while running, its final status after. */
  PhaseStatus phase(int i) {
    return phases.get(i);
  }

  boolean hasPhasesLeft() {
    return index < phases.size();
  }

  boolean hasEnded() {
    return state.isFinal();
  }

  /** What the next phase starts from: the output of the one before, or the recipe's model. */
  Triplet triplet() {
    return triplet;
  }

  /** Shows the run in {@code newState}, with why (or null, when there is nothing to say). */
  void setState(RunState newState, String why) {
    state = newState;
    message = why;
    publish();
  }

  /** The run waits between phases while paused, with the message its pause came with. */
  void paused() {
    state = RunState.PAUSED;
    publish();
  }

  /**
   * The run goes on with its next phase. Nothing is published yet: the run is shown with that phase
   * running once its workflow has started ({@link #phaseStarted}).
   */
  void running() {
    state = RunState.RUNNING;
  }

  /** Phase {@code i}'s workflow has started. */
  void phaseStarted(int i) {
    phases.set(i, phases.get(i).withState(PhaseState.RUNNING, null));
    publish();
  }

  /** The running phase's latest status, unless it is stale: for another phase or one that ended. */
  void phaseReported(PhaseStatus report) {
    if (report.index() != index || index >= phases.size() || phases.get(index).state().isFinal()) {
      return;
    }
    phases.set(index, report);
    publish();
  }

  /** The phase ended: its final status is shown and its output is what the next one starts from. */
  void phaseEnded(PhaseOutcome outcome) {
    phases.set(index, outcome.status());
    triplet = outcome.output();
    index++;
    publish();
  }

  /** The next phase is skipped before it started; the run goes on to the one after. */
  void phaseSkipped(String why) {
    phases.set(index, phases.get(index).withState(PhaseState.SKIPPED, why));
    index++;
    publish();
  }

  /** The running phase failed or was canceled on its own, and the run fails: returns why. */
  String phaseFailed(PhaseState phaseState, String why) {
    PhaseStatus phase = phases.get(index);
    phases.set(index, phase.withState(phaseState, why));
    state = RunState.FAILED;
    message = "phase " + index + " '" + phase.name() + "' failed: " + why;
    publish();
    return message;
  }

  /** The run was canceled, and with it the phase that was running. */
  void canceled() {
    state = RunState.CANCELED;
    message = "canceled";
    if (index < phases.size() && !phases.get(index).state().isFinal()) {
      phases.set(index, phases.get(index).withState(PhaseState.CANCELED, "the run was canceled"));
    }
    publish();
  }

  /** Shows the run in the Web UI: its details always, its search attributes when they change. */
  void publish() {
    RunStatus now = status();
    Workflow.setCurrentDetails(details(now));
    PhaseMetrics.showStates(now);
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

  /**
   * The run in Markdown, for the Web UI's current details: a line for the run, then one list item
   * per phase (its state, global steps, losses), and why a phase is preempted. A list, not a table:
   * the Web UI draws tables without any space between their cells.
   */
  static String details(RunStatus s) {
    StringBuilder out = new StringBuilder();
    out.append("**")
        .append(s.recipe())
        .append("** · ")
        .append(s.state())
        .append(" · step ")
        .append(s.step())
        .append(" of ")
        .append(s.totalSteps())
        .append(String.format(Locale.ROOT, " (t = %.3f)", s.t()));
    if (s.message() != null) {
      out.append('\n').append(s.message());
    }
    out.append("\n\n");
    for (PhaseStatus p : s.phases()) {
      out.append("- ").append(phaseLine(p)).append('\n');
    }
    for (PhaseStatus p : s.phases()) {
      if (p.state() == PhaseState.PREEMPTED && p.message() != null) {
        out.append("\nphase ")
            .append(p.index())
            .append(" '")
            .append(p.name())
            .append("': ")
            .append(p.message())
            .append('\n');
      }
    }
    return out.toString();
  }

  /**
   * One phase on one line: {@code **0 easy** · PAUSED · steps 0 → 900, at 154 · loss 0.0005 · eval
   * loss 0.3949 · resumes from step 150}, with what it has not got left out.
   */
  private static String phaseLine(PhaseStatus p) {
    StringBuilder line = new StringBuilder();
    line.append("**")
        .append(p.index())
        .append(' ')
        .append(p.name())
        .append("** · ")
        .append(p.state())
        .append(" · steps ")
        .append(p.stepStart())
        .append(" → ")
        .append(p.stepEnd());
    if (p.step() > p.stepStart() && p.step() < p.stepEnd()) {
      line.append(", at ").append(p.step());
    }
    if (p.loss() != null) {
      line.append(" · loss ").append(PhaseView.format(p.loss()));
    }
    if (p.evalLoss() != null) {
      line.append(" · eval loss ").append(PhaseView.format(p.evalLoss()));
    }
    if (p.attempt() > 1) { // the first is the usual case; a retried job is worth a glance
      line.append(" · attempt ").append(p.attempt());
    }
    // A paused phase usually saved at the step it stopped at; say so only when it did not.
    boolean stopped = p.state() == PhaseState.PAUSED || p.state() == PhaseState.PREEMPTED;
    if (stopped && p.checkpoint() != null && p.checkpoint() != p.step()) {
      line.append(" · resumes from step ").append(p.checkpoint());
    }
    if (p.artifacts() != null && p.artifacts().model() != null) {
      ArtifactRef model = p.artifacts().model();
      line.append(" · model `")
          .append(model.path() != null ? model.path() : model.uri())
          .append('`');
    }
    return line.toString();
  }
}
