package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import org.junit.jupiter.api.Test;

/**
 * A signal that finds its phase just closed must not fail the run: a pause sent as a phase
 * completes once failed a whole run (seen in CurriculumWorkflowTest as a rare race).
 */
class SignalsTest {

  @Test
  void aSignalToAClosedWorkflowIsMissedQuietly() {
    ApplicationFailure notFound =
        ApplicationFailure.newFailure(
            "SignalExternalWorkflowExecution failed with NOT_FOUND. WorkflowId=r.0-easy",
            "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND");
    assertFalse(
        Signals.sendUnlessClosed(
            () -> {
              throw notFound;
            }));
  }

  @Test
  void aSignalThatArrivesReportsSo() {
    assertTrue(Signals.sendUnlessClosed(() -> {}));
  }

  @Test
  void otherFailuresAndCancelsGoOnUp() {
    ApplicationFailure other = ApplicationFailure.newFailure("boom", "SomethingElse");
    assertSame(
        other,
        assertThrows(
            ApplicationFailure.class,
            () ->
                Signals.sendUnlessClosed(
                    () -> {
                      throw other;
                    })));
    assertThrows(
        CanceledFailure.class,
        () ->
            Signals.sendUnlessClosed(
                () -> {
                  throw new CanceledFailure("canceled");
                }));
  }
}
