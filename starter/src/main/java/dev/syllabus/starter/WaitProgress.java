package dev.syllabus.starter;

import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowStub;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What {@code run --wait} (and {@code retry --wait}) shows on stderr while it waits: a line when
 * the running phase or its state changes, and at each tenth of a phase, e.g. {@code easy RUNNING
 * step 450/900 (t=0.15) loss 0.0005 eval 0.3949}. Stdout keeps only the final table (or JSON).
 */
final class WaitProgress {

  private final PrintWriter err;
  private String shown;

  private WaitProgress(PrintWriter err) {
    this.err = err;
  }

  /** Waits until run {@code id} ends, showing its progress on {@code err}; returns how it ended. */
  static RunStatus await(WorkflowClient client, String id, PrintWriter err) {
    WaitProgress progress = new WaitProgress(err);
    WorkflowStub stub = client.newUntypedWorkflowStub(id);
    while (true) {
      try {
        stub.getResult(1, TimeUnit.SECONDS, RunStatus.class);
        break;
      } catch (TimeoutException e) {
        progress.show(RunView.fetch(client, id));
      } catch (WorkflowException e) {
        // The run failed or was canceled, and its status says how; or the server refused the long
        // poll for its result while it still runs (WorkflowServiceException, RESOURCE_EXHAUSTED
        // "Workflow is busy", seen on the dev server during a retry): wait on.
        RunStatus now = RunView.fetch(client, id);
        if (now.state().isFinal()
            || RunView.describe(client, id)
                != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
          // Ended, also from outside (`temporal workflow terminate`), where the run's own state
          // never got to say so.
          return now;
        }
        progress.show(now);
        pause();
      }
    }
    return RunView.fetch(client, id);
  }

  /**
   * A breath before asking again, so that a server refusing the long poll is not asked in a loop.
   */
  private static void pause() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Exit.Failed("interrupted while waiting for the run");
    }
  }

  private void show(RunStatus run) {
    String line = line(run);
    if (!line.equals(shown)) {
      shown = line;
      err.println(line);
      err.flush();
    }
  }

  /** The progress line for {@code run}; the step is rounded down to a tenth of its phase. */
  static String line(RunStatus run) {
    PhaseStatus phase = run.currentPhase();
    if (phase == null) {
      return run.runId() + " " + run.state();
    }
    long length = Math.max(1, phase.stepEnd() - phase.stepStart());
    long done = phase.step() - phase.stepStart();
    long tenth = Math.max(0, Math.min(10, done * 10 / length));
    long shownStep = phase.stepStart() + length * tenth / 10;
    StringBuilder out =
        new StringBuilder()
            .append(phase.name())
            .append(' ')
            .append(phase.state())
            .append(" step ")
            .append(shownStep)
            .append('/')
            .append(run.totalSteps())
            .append(String.format(Locale.ROOT, " (t=%.2f)", (double) shownStep / run.totalSteps()));
    if (tenth > 0 && phase.loss() != null) {
      out.append(" loss ").append(RunView.number(phase.loss()));
    }
    if (tenth > 0 && phase.evalLoss() != null) {
      out.append(" eval ").append(RunView.number(phase.evalLoss()));
    }
    return out.toString();
  }
}
