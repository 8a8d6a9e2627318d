package dev.syllabus.starter;

import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import io.temporal.client.WorkflowStub;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "cancel",
    description = "Cancel a run: its running job is torn down and the run ends CANCELED.")
final class CancelCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RUN_ID")
  String runId;

  @Override
  public Integer call() {
    try (Temporal temporal = parent.temporal.connect()) {
      RunView.requireRunning(temporal.client(), runId);
      WorkflowStub.fromTyped(temporal.client().newWorkflowStub(CurriculumWorkflow.class, runId))
          .cancel();
      spec.commandLine().getOut().println("cancel sent to " + runId);
      return Exit.OK;
    }
  }
}
