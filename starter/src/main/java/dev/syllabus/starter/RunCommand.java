package dev.syllabus.starter;

import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.SearchKeys;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributes;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "run",
    description = {
      "Start a run of a recipe and print its run id.",
      "A worker must be running (`syllabus dev`, or `syllabus worker`)."
    })
final class RunCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", description = "the recipe file")
  String recipe;

  @Option(
      names = "--id",
      paramLabel = "RUN_ID",
      description =
          "the run id (default: <recipe>-<date>-<time>-<random>); lower-case letters, digits and '-'")
  String runId;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description = "override a recipe field, e.g. phases[1].optimizer.lr=1.0e-5")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--wait",
      description =
          "wait until the run ends, showing its progress on stderr; exit 0 only if it completed")
  boolean wait;

  @Option(names = "--json", description = "with --wait, print the final status as JSON")
  boolean json;

  @Override
  public Integer call() {
    Recipe r = RecipeFiles.load(parent.paths, recipe, overrides);
    String id = runId != null ? runId : newRunId(r.name());
    String idProblem = Names.checkRunId(id);
    if (idProblem != null) {
      throw new Exit.BadInput("--id: " + idProblem);
    }
    try (Temporal temporal = parent.temporal.connect()) {
      ensureSearchAttributes(temporal);
      start(temporal.client(), RunInput.of(r), id, summary(r));
      return followStarted(temporal, spec, id, wait, json);
    }
  }

  /**
   * Prints the started run's id, warns when no worker polls, and with {@code wait} prints how it
   * ended: what {@code run} and {@code retry} do once they started a run. Returns the exit code.
   */
  static int followStarted(
      Temporal temporal,
      picocli.CommandLine.Model.CommandSpec spec,
      String id,
      boolean wait,
      boolean json) {
    spec.commandLine().getOut().println(id);
    if (!workerPolls(temporal)) {
      spec.commandLine()
          .getErr()
          .println(
              "syllabus: no worker polls task queue '"
                  + CurriculumWorkflow.TASK_QUEUE
                  + "' at "
                  + temporal.address()
                  + "; the run waits until one starts (`syllabus worker`, or `syllabus dev`)");
    }
    if (!wait) {
      return Exit.OK;
    }
    RunStatus end = WaitProgress.await(temporal.client(), id, spec.commandLine().getErr());
    spec.commandLine().getOut().print(json ? RunView.json(end) + "\n" : RunView.table(end));
    return RunView.exitCodeOf(end.state());
  }

  static CurriculumWorkflow start(WorkflowClient client, Recipe r, String id) {
    return start(client, RunInput.of(r), id, summary(r));
  }

  /**
   * Starts run {@code id} with {@code input}, shown in the Web UI's run list as {@code summary}.
   */
  static CurriculumWorkflow start(
      WorkflowClient client, RunInput input, String id, String summary) {
    Recipe r = input.recipe();
    WorkflowOptions options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(id)
            .setTaskQueue(CurriculumWorkflow.TASK_QUEUE)
            .setWorkflowIdReusePolicy(
                WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
            .setStaticSummary(summary)
            .setStaticDetails(details(r))
            .setTypedSearchAttributes(
                SearchAttributes.newBuilder().set(SearchKeys.RECIPE, r.name()).build())
            .build();
    CurriculumWorkflow run = client.newWorkflowStub(CurriculumWorkflow.class, options);
    try {
      WorkflowClient.start(run::run, input);
    } catch (WorkflowExecutionAlreadyStarted e) {
      throw new Exit.BadInput(
          "--id: a run '" + id + "' already exists; run ids are never reused, pick another");
    }
    return run;
  }

  /** One line for the Web UI's run list: recipe, phases, T. */
  static String summary(Recipe r) {
    return r.name()
        + ": "
        + r.phases().size()
        + " phases, "
        + r.schedule().totalSteps()
        + " steps ("
        + String.join(" → ", r.phases().stream().map(Phase::name).toList())
        + ")";
  }

  /**
   * The recipe in Markdown, for the Web UI's details: its description, then one list item per phase
   * (the Web UI draws tables without any space between their cells).
   */
  static String details(Recipe r) {
    StringBuilder out = new StringBuilder();
    if (!r.description().isBlank()) {
      out.append(r.description()).append("\n\n");
    }
    var ranges = r.stepRanges();
    for (int i = 0; i < r.phases().size(); i++) {
      Phase p = r.phases().get(i);
      out.append("- **")
          .append(i)
          .append(' ')
          .append(p.name())
          .append("** · ")
          .append(p.frameworkWorkload())
          .append(" · steps ")
          .append(ranges.get(i).start())
          .append(" → ")
          .append(ranges.get(i).end())
          .append('\n');
    }
    return out.toString();
  }

  static String newRunId(String recipeName) {
    String base =
        recipeName.length() > 20 ? recipeName.substring(0, 20).replaceAll("-+$", "") : recipeName;
    return base
        + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
        + "-"
        + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
  }

  /** Whether a worker polls the task queue; true when the server cannot tell. */
  static boolean workerPolls(Temporal temporal) {
    try {
      return temporal
              .client()
              .getWorkflowServiceStubs()
              .blockingStub()
              .describeTaskQueue(
                  DescribeTaskQueueRequest.newBuilder()
                      .setNamespace(temporal.namespace())
                      .setTaskQueue(TaskQueue.newBuilder().setName(CurriculumWorkflow.TASK_QUEUE))
                      .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
                      .build())
              .getPollersCount()
          > 0;
    } catch (RuntimeException e) {
      return true;
    }
  }

  /** Registers missing search attributes, or says how to when this server does not allow it. */
  static void ensureSearchAttributes(Temporal temporal) {
    try {
      // The first call in the namespace: credentials it refuses are said as such, not as
      // search attributes that could not be registered.
      temporal.searchAttributes();
    } catch (RuntimeException e) {
      Optional<String> refused = Temporal.refusal(e, temporal.settings());
      if (refused.isPresent()) {
        throw new Exit.BadInput(refused.get());
      }
    }
    try {
      temporal.registerSearchAttributes();
    } catch (RuntimeException e) {
      throw new Exit.Failed(
          "the search attributes Syllabus uses are not registered in namespace "
              + temporal.namespace()
              + " and could not be registered ("
              + e.getMessage()
              + "); register them once with: "
              + String.join(
                  " ",
                  SearchKeys.ALL.stream().map(d -> "--search-attribute " + d.name()).toList()));
    }
  }
}
