package dev.syllabus.workflows;

import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.SignalExternalWorkflowException;

/**
 * Signals between a run and its phases. A signal to a workflow that has just closed (a phase that
 * ended as it was paused, a run canceled as its phase reports) is fine to miss; the run must not
 * fail over it. Anything else, a cancel included, goes on up.
 */
final class Signals {
  private static final String NOT_FOUND = "EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND";

  private Signals() {}

  /** Whether a signal failed because its target had already closed. */
  static boolean closedTarget(Throwable failure) {
    return failure instanceof SignalExternalWorkflowException
        || (failure instanceof ApplicationFailure app
            && app.getType() != null
            && app.getType().contains(NOT_FOUND));
  }

  /** Sends a signal; returns false when its target had already closed. */
  static boolean sendUnlessClosed(Runnable send) {
    try {
      send.run();
      return true;
    } catch (RuntimeException e) {
      if (closedTarget(e)) {
        return false;
      }
      throw e;
    }
  }
}
