package dev.syllabus.starter;

import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** pause, resume, advance and skip: one signal each to a running run, with an optional reason. */
abstract class SignalCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RUN_ID")
  String runId;

  @Option(
      names = "--reason",
      paramLabel = "TEXT",
      description = "why; shown in the status and the Web UI.")
  String reason;

  abstract String name();

  abstract void send(CurriculumWorkflow run, String reason);

  @Override
  public Integer call() {
    try (Temporal temporal = parent.temporal.connect()) {
      RunView.requireRunning(temporal.client(), runId);
      send(temporal.client().newWorkflowStub(CurriculumWorkflow.class, runId), reason);
      spec.commandLine().getOut().println(name() + " sent to " + runId);
      return Exit.OK;
    }
  }

  @Command(
      name = "pause",
      description = {
        "Pause a run: its job checkpoints and stops, freeing its GPUs.",
        "Between phases, the next phase is held until `resume`."
      })
  static final class Pause extends SignalCommand {
    String name() {
      return "pause";
    }

    void send(CurriculumWorkflow run, String reason) {
      run.pause(reason);
    }
  }

  @Command(
      name = "resume",
      description = "Resume a paused run: the job restarts from its latest checkpoint.")
  static final class Resume extends SignalCommand {
    String name() {
      return "resume";
    }

    void send(CurriculumWorkflow run, String reason) {
      run.resume(reason);
    }
  }

  @Command(
      name = "advance",
      description = "End the running phase at its latest checkpoint and go on with the next.")
  static final class Advance extends SignalCommand {
    String name() {
      return "advance";
    }

    void send(CurriculumWorkflow run, String reason) {
      run.advance(reason);
    }
  }

  @Command(
      name = "skip",
      description = {
        "Skip the running phase, or the next one; its input passes through.",
        "The model, optimizer and data it would have started from go on unchanged."
      })
  static final class Skip extends SignalCommand {
    String name() {
      return "skip";
    }

    void send(CurriculumWorkflow run, String reason) {
      run.skip(reason);
    }
  }
}
