package dev.syllabus.workflows;

import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.status.PhaseStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One phase of a run, as a child of {@link CurriculumWorkflow} with its own history, retries and
 * page in the Web UI: render, start the job, follow it to the end, hand on its checkpoint, tear
 * down. The parent forwards the run's signals here.
 */
@WorkflowInterface
public interface PhaseWorkflow {

  @WorkflowMethod
  PhaseOutcome run(PhaseTask task);

  /** Stop the job after it saves a checkpoint, and wait. */
  @SignalMethod
  void pause(String reason);

  /** Start a paused job again from its latest checkpoint. */
  @SignalMethod
  void resume(String reason);

  /** End the phase at its latest checkpoint and hand that on. */
  @SignalMethod
  void advance(String reason);

  /** End the phase without handing anything on: the input triplet passes through. */
  @SignalMethod
  void skip(String reason);

  @QueryMethod
  PhaseStatus status();
}
