package dev.syllabus.workflows;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;

/**
 * The answers of the run's controls, once they took effect, from what the run shows: which phase,
 * where it stands, the checkpoint that matters and one line for a person. Pure, so deterministic.
 */
final class ControlAnswers {
  private ControlAnswers() {}

  /**
   * A pause took effect, or never will: the phase is paused with its job gone, or the run holds
   * before its next phase; else a resume came first, or the run ended.
   */
  static ControlAnswer paused(String runId, CurriculumView view, boolean paused, boolean holding) {
    if (view.hasEnded()) {
      return ended(runId, "pause", view);
    }
    if (!paused) {
      return new ControlAnswer(
          runId, "pause", null, null, null, null, "run " + runId + " was resumed before it paused");
    }
    PhaseStatus phase = view.phase(view.phaseIndex());
    if (holding) {
      return new ControlAnswer(
          runId,
          "pause",
          phase.name(),
          phase.state(),
          phase.stepStart(),
          view.triplet(),
          "paused "
              + runId
              + " before phase '"
              + phase.name()
              + "', which starts at step "
              + phase.stepStart()
              + " when the run is resumed");
    }
    String where =
        phase.checkpoint() == null
            ? "before its first checkpoint; it starts again from step " + phase.stepStart()
            : "at its checkpoint of step " + phase.checkpoint() + ", which it resumes from";
    return new ControlAnswer(
        runId,
        "pause",
        phase.name(),
        phase.state(),
        phase.checkpoint(),
        null,
        "paused "
            + runId
            + ": phase '"
            + phase.name()
            + "' stopped "
            + where
            + "; its job is gone and its GPUs are free");
  }

  /** A resume took effect: the phase runs again or the next one started; or a pause came after. */
  static ControlAnswer resumed(String runId, CurriculumView view, boolean paused) {
    if (view.hasEnded()) {
      return ended(runId, "resume", view);
    }
    PhaseStatus phase = view.phase(view.phaseIndex());
    if (paused) {
      return new ControlAnswer(
          runId,
          "resume",
          phase.name(),
          phase.state(),
          null,
          null,
          "resumed " + runId + ", but a later pause holds it again");
    }
    String from =
        phase.checkpoint() == null
            ? "from step " + phase.stepStart()
            : "from its checkpoint of step " + phase.checkpoint();
    return new ControlAnswer(
        runId,
        "resume",
        phase.name(),
        phase.state(),
        phase.checkpoint(),
        null,
        "resumed " + runId + ": phase '" + phase.name() + "' runs again " + from);
  }

  /** Phase {@code i}, which an advance was asked to end, has ended: how, and what it handed on. */
  static ControlAnswer advanced(String runId, CurriculumView view, int i) {
    PhaseStatus phase = view.phase(i);
    if (!phase.state().isFinal()) {
      return ended(runId, "advance", view);
    }
    String how =
        phase.state() == PhaseState.ADVANCED
            ? "ended at its checkpoint of step " + phase.step() + " and handed on " + model(phase)
            : "ended "
                + phase.state()
                + " before the advance took effect"
                + (phase.message() == null ? "" : ": " + phase.message());
    return new ControlAnswer(
        runId,
        "advance",
        phase.name(),
        phase.state(),
        phase.state() == PhaseState.ADVANCED ? phase.step() : null,
        phase.artifacts(),
        "advanced " + runId + ": phase '" + phase.name() + "' " + how);
  }

  /**
   * Phase {@code i}, which a skip was asked to end, has ended: how, and what passed through ({@code
   * input}, the triplet it started from).
   */
  static ControlAnswer skipped(String runId, CurriculumView view, int i, Triplet input) {
    PhaseStatus phase = view.phase(i);
    if (!phase.state().isFinal()) {
      return ended(runId, "skip", view);
    }
    String how =
        phase.state() == PhaseState.SKIPPED
            ? "was skipped; its input passed through: "
                + describe(input == null ? null : input.model())
            : "ended " + phase.state() + " before the skip took effect";
    return new ControlAnswer(
        runId,
        "skip",
        phase.name(),
        phase.state(),
        null,
        phase.state() == PhaseState.SKIPPED ? input : phase.artifacts(),
        "phase '" + phase.name() + "' of " + runId + " " + how);
  }

  /** The run ended before the control took effect. */
  private static ControlAnswer ended(String runId, String control, CurriculumView view) {
    RunStatus status = view.status();
    PhaseStatus phase = status.currentPhase();
    return new ControlAnswer(
        runId,
        control,
        phase == null ? null : phase.name(),
        phase == null ? null : phase.state(),
        null,
        null,
        "run "
            + runId
            + " ended "
            + status.state()
            + " before the "
            + control
            + " took effect"
            + (status.message() == null ? "" : ": " + status.message()));
  }

  private static String model(PhaseStatus phase) {
    return describe(phase.artifacts() == null ? null : phase.artifacts().model());
  }

  private static String describe(ArtifactRef model) {
    if (model == null) {
      return "no model";
    }
    return "model " + (model.path() != null ? model.path() : model.uri());
  }
}
