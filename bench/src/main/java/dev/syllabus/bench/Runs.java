package dev.syllabus.bench;

import dev.syllabus.starter.Exit;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The curriculum runs bench starts on one of its task queues, and waits for.
 *
 * @param client the bench's Temporal client
 * @param queue the task queue of the bench's worker that runs them
 */
record Runs(WorkflowClient client, String queue) {

  /** Starts run {@code id}. */
  void start(String id, RunInput input) {
    CurriculumWorkflow run =
        client.newWorkflowStub(
            CurriculumWorkflow.class,
            WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(queue).build());
    WorkflowClient.start(run::run, input);
  }

  /** How run {@code id} ended; a run that takes over 30 minutes fails the bench. */
  RunStatus await(String id) {
    try {
      return WorkflowStub.fromTyped(client.newWorkflowStub(CurriculumWorkflow.class, id))
          .getResult(30, TimeUnit.MINUTES, RunStatus.class);
    } catch (TimeoutException e) {
      throw new Exit.Failed("bench run " + id + " did not end within 30 minutes");
    }
  }

  /** Fails the bench unless the run completed. */
  static void requireCompleted(RunStatus end) {
    if (end.state() != RunState.COMPLETED) {
      throw new Exit.Failed(
          "bench run " + end.runId() + " ended " + end.state() + ": " + end.message());
    }
  }

  /** Eight random characters, to keep this bench's ids and task queue apart from others'. */
  static String shortId() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
