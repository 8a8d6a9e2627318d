package dev.syllabus.starter;

import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
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
      WorkflowExecutionStatus status = RunView.describe(temporal.client(), runId);
      if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
        throw new Exit.Failed(
            "run "
                + runId
                + " has already ended ("
                + status.name().replace("WORKFLOW_EXECUTION_STATUS_", "")
                + ")");
      }
      WorkflowStub.fromTyped(temporal.client().newWorkflowStub(CurriculumWorkflow.class, runId))
          .cancel();
      spec.commandLine().getOut().println("cancel sent to " + runId);
      return Exit.OK;
    }
  }
}
