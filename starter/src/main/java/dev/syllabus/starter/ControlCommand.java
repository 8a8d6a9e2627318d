package dev.syllabus.starter;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.status.ControlAnswer;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * pause, resume, advance and skip: a control of a running run, sent as a Workflow Update that is
 * refused with the reason when it cannot be honoured and answers once it took effect; or, with
 * {@code --no-wait}, as a signal that returns at once.
 */
abstract class ControlCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RUN_ID")
  String runId;

  @Option(
      names = "--reason",
      paramLabel = "TEXT",
      description = "why; shown in the status and the Web UI.")
  String reason;

  @Option(
      names = "--no-wait",
      description = {
        "Send the control as a signal and return at once, without waiting for it to take effect.",
        "A signal is never refused: one that cannot be honoured does nothing."
      })
  boolean noWait;

  @Option(names = "--json", description = "print the answer as one JSON object (for scripts)")
  boolean json;

  abstract String name();

  /** Sends the control as an update and waits for its answer. */
  abstract ControlAnswer ask(CurriculumWorkflow run, String reason);

  /** Sends the control as a signal. */
  abstract void signal(CurriculumWorkflow run, String reason);

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Temporal temporal = parent.temporal.connect()) {
      RunView.requireRunning(temporal.client(), runId);
      CurriculumWorkflow run = temporal.client().newWorkflowStub(CurriculumWorkflow.class, runId);
      if (noWait) {
        try {
          signal(run, reason);
        } catch (WorkflowException e) {
          throw failure(temporal, e);
        }
        out.println(name() + " sent to " + runId);
        return Exit.OK;
      }
      ControlAnswer answer;
      try {
        answer = ask(run, reason);
      } catch (WorkflowUpdateException e) {
        throw new Exit.Failed(name() + " refused: " + refusal(e));
      } catch (WorkflowException e) {
        throw failure(temporal, e);
      }
      out.println(json ? RunView.JSON.writeValueAsString(answer) : answer.message());
      return Exit.OK;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the answer as JSON", e);
    }
  }

  /**
   * Why the control failed. A run can end between the check that it is running and the control
   * reaching it (it was writing its last record); that reads as the run having ended.
   */
  private Exit.Failed failure(Temporal temporal, WorkflowException e) {
    RunView.requireRunning(temporal.client(), runId);
    return new Exit.Failed(name() + " of run " + runId + " failed: " + Temporal.rootMessage(e));
  }

  /** Why the run refused the control: its validator's reason, or what the server said. */
  private static String refusal(WorkflowUpdateException e) {
    if (e.getCause() instanceof ApplicationFailure refused) {
      return refused.getOriginalMessage();
    }
    return Temporal.rootMessage(e);
  }

  @Command(
      name = "pause",
      description = {
        "Pause a run: its job saves a checkpoint and stops, freeing its GPUs.",
        "Between phases, the next phase is held until `resume`.",
        "Returns once the job is gone, with the checkpoint step it will resume from.",
        "Refused when the run is paused already or has ended.",
        "",
        "Example: syllabus pause qwen-run-7 --reason 'need the GPUs'"
      })
  static final class Pause extends ControlCommand {
    String name() {
      return "pause";
    }

    ControlAnswer ask(CurriculumWorkflow run, String reason) {
      return run.pauseRun(reason);
    }

    void signal(CurriculumWorkflow run, String reason) {
      run.pause(reason);
    }
  }

  @Command(
      name = "resume",
      description = {
        "Resume a paused run: the job restarts from its latest checkpoint.",
        "Returns once the job was started again. Refused when the run is not paused.",
        "",
        "Example: syllabus resume qwen-run-7"
      })
  static final class Resume extends ControlCommand {
    String name() {
      return "resume";
    }

    ControlAnswer ask(CurriculumWorkflow run, String reason) {
      return run.resumeRun(reason);
    }

    void signal(CurriculumWorkflow run, String reason) {
      run.resume(reason);
    }
  }

  @Command(
      name = "advance",
      description = {
        "End the running phase at its latest checkpoint and go on with the next.",
        "Returns with the checkpoint handed on. Refused when no phase runs, the phase has not",
        "saved a checkpoint yet, or it is already ending.",
        "",
        "Example: syllabus advance qwen-run-7 --reason 'loss plateaued'"
      })
  static final class Advance extends ControlCommand {
    String name() {
      return "advance";
    }

    ControlAnswer ask(CurriculumWorkflow run, String reason) {
      return run.advancePhase(reason);
    }

    void signal(CurriculumWorkflow run, String reason) {
      run.advance(reason);
    }
  }

  @Command(
      name = "skip",
      description = {
        "Skip the running phase, or the next one; its input passes through.",
        "The model, optimizer and data it would have started from go on unchanged.",
        "Returns with what passed through. Refused when no phase is left or it is already ending.",
        "",
        "Example: syllabus skip qwen-run-7"
      })
  static final class Skip extends ControlCommand {
    String name() {
      return "skip";
    }

    ControlAnswer ask(CurriculumWorkflow run, String reason) {
      return run.skipPhase(reason);
    }

    void signal(CurriculumWorkflow run, String reason) {
      run.skip(reason);
    }
  }
}
