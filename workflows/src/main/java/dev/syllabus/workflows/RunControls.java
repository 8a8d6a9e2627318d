package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import org.slf4j.Logger;

/**
 * How a person steers a run: pause, resume, advance and skip, as signals (which set what is wanted)
 * and as Workflow Updates (validated first, answered once they took effect), and their forwarding
 * to the running phase, which counts the controls it heard so that the run can tell when one took
 * effect. Part of {@link CurriculumWorkflowImpl}, so deterministic like it.
 */
final class RunControls {
  private static final Logger log = Workflow.getLogger(RunControls.class);

  private final String runId;
  private final CurriculumView view;

  private boolean paused;
  private boolean advancePending;
  private boolean skipPending;
  private String reason;

  /** The run waits between phases because it is paused. */
  private boolean holding;

  /** The phase an advance or a skip is ending, or -1: a second one is refused. */
  private int endingPhase = -1;

  /** The running phase's workflow, or null before the first. */
  private Promise<PhaseOutcome> runningPhase;

  /** What the running phase was told: a pause is in force there. */
  private boolean phasePaused;

  /** How many controls the running phase was sent; its reports say how many it heard. */
  private int forwarded;

  /** {@link #forwarded} just after the latest pause, and resume, reached the running phase. */
  private int pauseForwardedAt;

  private int resumeForwardedAt;

  RunControls(String runId, CurriculumView view, boolean paused) {
    this.runId = runId;
    this.view = view;
    this.paused = paused;
  }

  // --- what the run's loop asks ---------------------------------------------------------------

  boolean paused() {
    return paused;
  }

  /** Holds the run between phases while it is paused, until a resume or a skip. */
  void holdWhilePaused() {
    view.paused();
    holding = true;
    Workflow.await(() -> !paused || skipPending);
    holding = false;
  }

  /** Whether a skip of the next phase is pending; taking it clears it. */
  boolean takeSkip() {
    boolean skip = skipPending;
    skipPending = false;
    return skip;
  }

  /** A phase ended: an advance still pending was for it. */
  void phaseEnded() {
    advancePending = false;
  }

  /** The running phase, for a cancel to wait on; null before the first. */
  Promise<PhaseOutcome> runningPhase() {
    return runningPhase;
  }

  /**
   * Forwards pause, resume, advance and skip to the phase {@code child} runs until it ends ({@code
   * result} completes), counting what it sent.
   */
  void forwardUntilEnded(PhaseWorkflow child, Promise<PhaseOutcome> result) {
    runningPhase = result;
    phasePaused = false;
    forwarded = 0;
    pauseForwardedAt = 0;
    resumeForwardedAt = 0;
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
  }

  /** Signals the running phase; one that has just ended is fine to miss. */
  private void signal(Runnable send) {
    if (!Signals.sendUnlessClosed(send)) {
      log.info("phase {} ended before a signal reached it", view.phaseIndex());
    }
  }

  /** {@code " (<reason>)"}, or nothing without a reason: for the messages a person reads. */
  String because() {
    return reason == null || reason.isBlank() ? "" : " (" + reason + ")";
  }

  // --- signals: accepted whatever the run's state, acted on as they can be ----------------------

  void pause(String reason) {
    if (view.hasEnded()) {
      return;
    }
    this.reason = reason;
    paused = true;
    view.setState(RunState.PAUSED, "paused" + because());
  }

  void resume(String reason) {
    if (view.hasEnded()) {
      return;
    }
    this.reason = reason;
    paused = false;
    view.setState(RunState.RUNNING, null);
  }

  void advance(String reason) {
    if (view.hasEnded() || !view.hasPhasesLeft()) {
      return;
    }
    this.reason = reason;
    advancePending = true;
    endingPhase = view.phaseIndex();
  }

  void skip(String reason) {
    if (view.hasEnded() || !view.hasPhasesLeft()) {
      return;
    }
    this.reason = reason;
    skipPending = true;
    endingPhase = view.phaseIndex();
  }

  // --- updates: validated first, answered once they took effect ------------------------------
  //
  // Each validator refuses, with the reason, a control that cannot be honoured: the refusal is not
  // written to the history. Each handler does what the signal of the same name does, then waits
  // until it took effect and says what happened.

  void validatePauseRun(String reason) {
    refuseWhenEnded("pause");
    if (paused) {
      throw refused(
          "run " + runId + " is already paused; `syllabus resume " + runId + "` resumes it");
    }
  }

  ControlAnswer pauseRun(String reason) {
    pause(reason);
    Workflow.await(this::pauseTookEffect);
    return ControlAnswers.paused(runId, view, paused, holding);
  }

  void validateResumeRun(String reason) {
    refuseWhenEnded("resume");
    if (!paused) {
      throw refused("run " + runId + " is not paused");
    }
  }

  ControlAnswer resumeRun(String reason) {
    resume(reason);
    Workflow.await(this::resumeTookEffect);
    return ControlAnswers.resumed(runId, view, paused);
  }

  void validateAdvancePhase(String reason) {
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

  ControlAnswer advancePhase(String reason) {
    int i = view.phaseIndex();
    advance(reason);
    Workflow.await(() -> view.hasEnded() || view.phaseIndex() > i);
    return ControlAnswers.advanced(runId, view, i);
  }

  void validateSkipPhase(String reason) {
    refuseWhenEnded("skip");
    if (!view.hasPhasesLeft()) {
      throw refused("run " + runId + " has no phase left to skip");
    }
    refuseWhenEnding(view.phase(view.phaseIndex()));
  }

  ControlAnswer skipPhase(String reason) {
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
}
