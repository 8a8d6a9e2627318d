package dev.syllabus.workflows;

import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One run of a recipe (workflow id = run id). Owns the order of phases, the artifact triplet, the
 * pause state and the summary; runs each phase as a child {@link PhaseWorkflow}.
 *
 * <p>A person steers a run with controls, each in two forms. As Workflow Updates ({@code pauseRun},
 * {@code resumeRun}, {@code advancePhase}, {@code skipPhase}), which the CLI sends: a control that
 * cannot be honoured is refused by its validator before anything is written to the history, and an
 * accepted one answers once it took effect. As signals ({@code pause}, {@code resume}, {@code
 * advance}, {@code skip}), for the Web UI's signal form and {@code temporal workflow signal}:
 * accepted whatever the run's state, and acted on as they can be. Both take an optional reason (a
 * JSON string, or nothing).
 */
@WorkflowInterface
public interface CurriculumWorkflow {

  /** The task queue that runs and workers use unless told otherwise. */
  String TASK_QUEUE = "syllabus";

  @WorkflowMethod
  RunStatus run(RunInput input);

  /** Hold the run: stop the running job after it checkpoints, or hold the next phase. */
  @SignalMethod
  void pause(String reason);

  @SignalMethod
  void resume(String reason);

  /** End the running phase at its latest checkpoint and go on with the next. */
  @SignalMethod
  void advance(String reason);

  /** Skip the running phase, or the next one when none runs; the triplet passes through. */
  @SignalMethod
  void skip(String reason);

  /**
   * Pause the run and answer once the pause took effect: the running phase's job saved its
   * checkpoint and its processes or pods are gone, or the run holds before its next phase. Refused
   * when the run has ended or is paused already.
   */
  @UpdateMethod
  ControlAnswer pauseRun(String reason);

  @UpdateValidatorMethod(updateName = "pauseRun")
  void validatePauseRun(String reason);

  /**
   * Resume a paused run and answer once its phase runs again (its job resubmitted from the latest
   * checkpoint, or the next phase started). Refused when the run is not paused.
   */
  @UpdateMethod
  ControlAnswer resumeRun(String reason);

  @UpdateValidatorMethod(updateName = "resumeRun")
  void validateResumeRun(String reason);

  /**
   * End the running phase at its latest checkpoint, hand that on, and answer with it. Refused when
   * no phase runs, the phase has no checkpoint yet, or it is already ending.
   */
  @UpdateMethod
  ControlAnswer advancePhase(String reason);

  @UpdateValidatorMethod(updateName = "advancePhase")
  void validateAdvancePhase(String reason);

  /**
   * Skip the running phase, or the next one when none runs, and answer with what passed through.
   * Refused when the run has ended, has no phase left, or the phase is already ending.
   */
  @UpdateMethod
  ControlAnswer skipPhase(String reason);

  @UpdateValidatorMethod(updateName = "skipPhase")
  void validateSkipPhase(String reason);

  /** Progress of the running phase, sent by its {@link PhaseWorkflow} a few times a phase. */
  @SignalMethod
  void phaseReport(PhaseStatus report);

  @QueryMethod
  RunStatus status();
}
