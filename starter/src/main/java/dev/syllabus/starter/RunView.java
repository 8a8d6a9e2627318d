package dev.syllabus.starter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.PhaseWorkflow;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowStub;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run as the command line shows it: the run's own status, with the running phase's live step and
 * loss taken from that phase's workflow (the run itself hears from it only a few times a phase).
 */
final class RunView {

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RunView() {}

  /**
   * What Temporal knows of one workflow run of workflow {@code workflowId}: {@code workflowRunId},
   * or the latest when it is empty.
   */
  static WorkflowExecutionInfo info(
      WorkflowClient client, String workflowId, String workflowRunId) {
    return client
        .getWorkflowServiceStubs()
        .blockingStub()
        .describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder()
                .setNamespace(client.getOptions().getNamespace())
                .setExecution(
                    io.temporal.api.common.v1.WorkflowExecution.newBuilder()
                        .setWorkflowId(workflowId)
                        .setRunId(workflowRunId))
                .build())
        .getWorkflowExecutionInfo();
  }

  /** Whether a run with this id exists, and its Temporal status; BadInput when it does not. */
  static WorkflowExecutionStatus describe(WorkflowClient client, String runId) {
    try {
      return info(client, runId, "").getStatus();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new Exit.BadInput(
            "no run '" + runId + "' in namespace " + client.getOptions().getNamespace());
      }
      throw e;
    }
  }

  /** Fails with a one-line reason unless the run exists and is still running. */
  static void requireRunning(WorkflowClient client, String runId) {
    WorkflowExecutionStatus status = describe(client, runId);
    if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      throw new Exit.Failed(
          "run "
              + runId
              + " has already ended ("
              + status.name().replace("WORKFLOW_EXECUTION_STATUS_", "")
              + ")");
    }
  }

  /** The run's status now. */
  static RunStatus fetch(WorkflowClient client, String runId) {
    WorkflowExecutionStatus status = describe(client, runId);
    RunStatus run;
    if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      run =
          WorkflowStub.fromTyped(client.newWorkflowStub(CurriculumWorkflow.class, runId))
              .getResult(RunStatus.class);
    } else {
      try {
        run = client.newWorkflowStub(CurriculumWorkflow.class, runId).status();
      } catch (WorkflowException | StatusRuntimeException e) {
        throw new Exit.Failed(
            "run "
                + runId
                + " is "
                + status.name().replace("WORKFLOW_EXECUTION_STATUS_", "")
                + " but its status could not be read (is a worker running? `syllabus worker`): "
                + e.getMessage());
      }
    }
    return withLivePhase(client, run);
  }

  private static RunStatus withLivePhase(WorkflowClient client, RunStatus run) {
    if (run.state().isFinal()) {
      return run;
    }
    PhaseStatus current = run.currentPhase();
    if (current == null || current.state() == PhaseState.PENDING || current.state().isFinal()) {
      return run;
    }
    PhaseStatus live;
    try {
      live =
          client
              .newWorkflowStub(
                  PhaseWorkflow.class,
                  Names.phaseWorkflowId(run.runId(), current.index(), current.name()))
              .status();
    } catch (RuntimeException e) {
      return run;
    }
    if (live == null || live.state().isFinal()) {
      return run;
    }
    List<PhaseStatus> phases = new ArrayList<>(run.phases());
    phases.set(current.index(), live);
    long step = live.step();
    return new RunStatus(
        run.runId(),
        run.recipe(),
        run.state(),
        step,
        run.totalSteps(),
        run.totalSteps() == 0 ? 0 : (double) step / run.totalSteps(),
        run.phaseIndex(),
        phases,
        run.artifacts(),
        run.message());
  }

  /** The status as {@code status --json} prints it: every phase has an artifacts object. */
  static String json(RunStatus run) {
    List<PhaseStatus> phases = new ArrayList<>();
    for (PhaseStatus p : run.phases()) {
      phases.add(p.artifacts() == null ? p.withArtifacts(Triplet.EMPTY) : p);
    }
    RunStatus shown =
        new RunStatus(
            run.runId(),
            run.recipe(),
            run.state(),
            run.step(),
            run.totalSteps(),
            run.t(),
            run.phaseIndex(),
            phases,
            run.artifacts() == null ? Triplet.EMPTY : run.artifacts(),
            run.message());
    try {
      return JSON.writeValueAsString(shown);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A table for people. */
  static String table(RunStatus run) {
    StringBuilder out = new StringBuilder();
    PhaseStatus current = run.currentPhase();
    out.append(
        String.format(
            Locale.ROOT,
            "run %s · recipe %s · %s · step %d/%d (t = %.3f)",
            run.runId(),
            run.recipe(),
            run.state(),
            run.step(),
            run.totalSteps(),
            run.t()));
    if (current != null && !run.state().isFinal()) {
      out.append(" · phase ").append(current.index()).append(' ').append(current.name());
    }
    out.append('\n');
    if (run.message() != null) {
      out.append("  ").append(run.message()).append('\n');
    }
    int width = Math.max(5, run.phases().stream().mapToInt(p -> p.name().length()).max().orElse(5));
    out.append(
        String.format(
            Locale.ROOT,
            "  %-2s %-" + width + "s  %-9s  %-14s %7s  %-8s  %-9s  %s%n",
            "#",
            "phase",
            "state",
            "steps",
            "step",
            "loss",
            "eval loss",
            "model"));
    for (PhaseStatus p : run.phases()) {
      String model =
          p.artifacts() != null && p.artifacts().model() != null
              ? (p.artifacts().model().path() != null
                  ? p.artifacts().model().path()
                  : p.artifacts().model().uri())
              : "–";
      out.append(
          String.format(
              Locale.ROOT,
              "  %-2d %-" + width + "s  %-9s  %-14s %7s  %-8s  %-9s  %s%n",
              p.index(),
              p.name(),
              p.state(),
              "[" + p.stepStart() + ", " + p.stepEnd() + ")",
              p.state() == PhaseState.PENDING ? "–" : Long.toString(p.step()),
              number(p.loss()),
              number(p.evalLoss()),
              model));
      if (p.message() != null && p.state() != PhaseState.COMPLETED) {
        out.append("     ").append(p.message()).append('\n');
      }
    }
    return out.toString();
  }

  static String number(Double value) {
    return value == null ? "–" : String.format(Locale.ROOT, "%.4f", value);
  }

  static int exitCodeOf(RunState state) {
    return state == RunState.COMPLETED ? Exit.OK : Exit.FAILED;
  }
}
