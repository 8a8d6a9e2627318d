package dev.syllabus.workflows;

import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One run of a recipe (workflow id = run id). Owns the order of phases, the artifact triplet, the
 * pause state and the summary; runs each phase as a child {@link PhaseWorkflow}.
 *
 * <p>Signals take an optional reason (a JSON string, or nothing). Their names are the method names:
 * {@code pause}, {@code resume}, {@code advance}, {@code skip}.
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

  /** Progress of the running phase, sent by its {@link PhaseWorkflow} a few times a phase. */
  @SignalMethod
  void phaseReport(PhaseStatus report);

  @QueryMethod
  RunStatus status();
}
