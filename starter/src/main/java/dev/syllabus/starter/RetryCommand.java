package dev.syllabus.starter;

import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.PhaseOutcome;
import dev.syllabus.workflows.RetryOf;
import dev.syllabus.workflows.RetryPlan;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Problem;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.RecipeYaml;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "retry",
    description = {
      "Start a new run of a run's recipe from its failed (or a named) phase.",
      "",
      "The phases before it are the earlier run's, as they ended: the new run",
      "starts from the model, optimizer and data they handed on, and runs only",
      "that phase and the ones after it. The recipe is the earlier run's own,",
      "not read again from disk; --set may change that phase and later ones.",
      "Nothing is started when an earlier phase handed nothing on, or when what",
      "it handed on is missing from the local artifact store, incomplete or",
      "changed (a cluster's store is not checked here)."
    },
    footer = {
      "",
      "Examples:",
      "  syllabus retry x          # x failed in medium: run medium and hard again",
      "  syllabus retry x --from hard --id x2 --wait",
      "  syllabus retry x --set phases[medium].config.batch_size=16"
    })
final class RetryCommand implements Callable<Integer> {
  /** How many runs back a phase's artifacts are looked for: a retry of a retry of a retry... */
  private static final int MAX_GENERATIONS = 20;

  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RUN_ID", description = "the earlier run")
  String runId;

  @Option(
      names = "--from",
      paramLabel = "PHASE",
      description = "the phase to start at (default: the phase that failed or was canceled)")
  String from;

  @Option(
      names = "--id",
      paramLabel = "NEW_RUN_ID",
      description = "the new run's id (default: <RUN_ID>-retry-<n>, the first n not taken)")
  String newRunId;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description =
          "override a field of PHASE or a later phase, e.g. phases[medium].config.batch_size=16")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--wait",
      description = "wait until the new run ends; exit 0 only if it completed")
  boolean wait;

  @Option(names = "--json", description = "with --wait, print the final status as JSON")
  boolean json;

  @Override
  public Integer call() {
    if (newRunId != null) {
      requireValidId(newRunId);
    }
    try (Temporal temporal = parent.temporal.connect()) {
      WorkflowClient client = temporal.client();
      Earlier known = earlier(client);
      RunStatus earlier = known.status();
      RunInput input = known.input();
      Recipe earlierRecipe = input.recipe();
      String id = newRunId != null ? newRunId : nextRetryId(client, runId, parent.paths.runs());
      requireValidId(id);
      RetryPlan plan;
      String phase;
      Recipe recipe;
      try {
        phase = from != null ? from : RetryPlan.defaultPhase(earlier);
        recipe = withOverrides(earlierRecipe, phase);
        plan =
            RetryPlan.of(
                id,
                recipe,
                known.recorded() ? earlier : withWholeArtifacts(client, earlier, input),
                phase);
      } catch (RetryPlan.Refused e) {
        throw new Exit.BadInput(e.getMessage());
      }
      StoredArtifacts.Verdict stored = new StoredArtifacts(parent.paths.runs()).check(plan.start());
      if (stored.checked() && stored.problem() != null) {
        throw new Exit.BadInput(stored.problem());
      }
      if (stored.problem() != null) {
        spec.commandLine().getErr().println("syllabus: artifacts " + stored.problem());
      }
      RunCommand.ensureSearchAttributes(temporal);
      RunCommand.start(
          client,
          new RunInput(recipe, input.settings(), plan.carried(), new RetryOf(runId, phase)),
          id,
          RunCommand.summary(recipe) + ", retry of " + runId + " from " + phase);
      spec.commandLine()
          .getErr()
          .println(
              "syllabus: retrying "
                  + runId
                  + " from phase "
                  + plan.fromIndex()
                  + " '"
                  + phase
                  + "', starting from model "
                  + shown(plan.start().model()));
      return RunCommand.followStarted(temporal, spec, id, wait, json);
    }
  }

  /**
   * The earlier run as this Temporal knows it, or, when it does not (its history is past the
   * namespace's retention, or it ran on another Temporal, such as {@code demo}'s), as its record in
   * the local store says.
   */
  private Earlier earlier(WorkflowClient client) {
    try {
      return new Earlier(RunView.fetch(client, runId), inputOf(client, runId), false);
    } catch (Exit.BadInput unknown) {
      Path file = RunRecords.fileOf(parent.paths.runs(), runId);
      if (!Files.isRegularFile(file)) {
        throw unknown;
      }
      RunRecord record;
      try {
        record = RunRecords.read(file);
      } catch (RunRecords.NotARecord e) {
        throw new Exit.BadInput(unknown.getMessage() + ", and its record " + e.getMessage());
      }
      if (!record.state().equals("FAILED")
          && !record.state().equals("CANCELED")
          && !record.state().equals("COMPLETED")) {
        throw new Exit.BadInput(
            "run "
                + runId
                + " is not known to this Temporal and its record says it was "
                + record.state()
                + " when last written: a run that may still run is not retried");
      }
      spec.commandLine()
          .getErr()
          .println(
              "syllabus: run "
                  + runId
                  + " is not known to this Temporal; retrying it from "
                  + file);
      Recipe recipe;
      try {
        recipe = RunRecords.recipeOf(file, record);
      } catch (RunRecords.NotARecord e) {
        throw new Exit.BadInput(e.getMessage());
      }
      return new Earlier(
          RecordedRuns.status(record),
          new RunInput(recipe, RunSettings.DEFAULTS, null, record.retryOf()),
          true);
    }
  }

  /** The run a retry starts from: its status and input, from Temporal or its record. */
  private record Earlier(RunStatus status, RunInput input, boolean recorded) {}

  /**
   * The earlier recipe with {@code --set} applied and checked; only {@code phase} and the phases
   * after it may change, since the ones before ran as they were.
   */
  private Recipe withOverrides(Recipe earlier, String phase) {
    if (overrides.isEmpty()) {
      return earlier;
    }
    RecipeFiles.Checked checked =
        RecipeFiles.checkText(
            "run " + runId + "'s recipe",
            RecipeYaml.write(earlier),
            overrides,
            parent.paths.kubeconfigs());
    if (!checked.ok()) {
      throw new Exit.BadInput(
          String.join("\n", checked.problems().stream().map(Problem::toString).toList()));
    }
    Recipe changed = checked.recipe();
    int index = -1;
    for (int i = 0; i < earlier.phases().size(); i++) {
      if (earlier.phases().get(i).name().equals(phase)) {
        index = i;
      }
    }
    String problem = index < 0 ? null : RetryPlan.changedBefore(earlier, changed, index);
    if (problem != null) {
      throw new Exit.BadInput(problem);
    }
    return changed;
  }

  private static void requireValidId(String id) {
    String problem = Names.checkRunId(id);
    if (problem != null) {
      throw new Exit.BadInput("--id: " + problem);
    }
  }

  /** The input run {@code id} was started with (any run of its chain has the same recipe). */
  static RunInput inputOf(WorkflowClient client, String id) {
    HistoryEvent first = client.fetchHistory(id).getEvents().get(0);
    Payloads payloads = first.getWorkflowExecutionStartedEventAttributes().getInput();
    return client
        .getOptions()
        .getDataConverter()
        .fromPayloads(0, Optional.of(payloads), RunInput.class, RunInput.class);
  }

  /**
   * {@code <run>-retry-<n>} with the first n no run has: a retry of {@code x-retry-1} is {@code
   * x-retry-2}.
   */
  private static String nextRetryId(WorkflowClient client, String run, Path store) {
    String base = run.replaceFirst("-retry-\\d+$", "");
    for (int n = 1; ; n++) {
      String suffix = "-retry-" + n;
      String head =
          base.length() + suffix.length() > Names.MAX_RUN_ID
              ? base.substring(0, Names.MAX_RUN_ID - suffix.length()).replaceAll("-+$", "")
              : base;
      String candidate = head + suffix;
      if (Files.exists(store.resolve(candidate))) {
        continue; // a run of that id left its artifacts here, maybe on another Temporal
      }
      try {
        RunView.describe(client, candidate);
      } catch (Exit.BadInput notFound) {
        return candidate;
      }
    }
  }

  /**
   * The earlier run's status with each finished phase's artifacts whole: a run that continued as
   * new keeps only a brief reference to its finished phases' models ({@link
   * RunStatus#forCarrying}), so those are read from the phase's own workflow, under this run or,
   * for the phases a retry took over, the run it retried.
   */
  private static RunStatus withWholeArtifacts(
      WorkflowClient client, RunStatus earlier, RunInput input) {
    List<PhaseStatus> phases = new ArrayList<>(earlier.phases());
    boolean changed = false;
    for (int i = 0; i < phases.size(); i++) {
      PhaseStatus phase = phases.get(i);
      if (phase.artifacts() == null || !isBrief(phase.artifacts())) {
        continue;
      }
      Triplet whole = handedOn(client, earlier.runId(), input, phase);
      if (whole != null) {
        phases.set(i, phase.withArtifacts(whole));
        changed = true;
      }
    }
    if (!changed) {
      return earlier;
    }
    return new RunStatus(
        earlier.runId(),
        earlier.recipe(),
        earlier.state(),
        earlier.step(),
        earlier.totalSteps(),
        earlier.t(),
        earlier.phaseIndex(),
        phases,
        earlier.artifacts(),
        earlier.message());
  }

  private static boolean isBrief(Triplet t) {
    return Stream.of(t.model(), t.optimizer(), t.data())
        .anyMatch(r -> r != null && !r.isExternal() && r.uri() == null);
  }

  /** What {@code phase}'s own workflow handed on, in run {@code run} or the runs it retried. */
  private static Triplet handedOn(
      WorkflowClient client, String run, RunInput input, PhaseStatus phase) {
    RunInput current = input;
    String candidate = run;
    for (int generation = 0; generation < MAX_GENERATIONS && candidate != null; generation++) {
      try {
        PhaseOutcome outcome =
            client
                .newUntypedWorkflowStub(
                    Names.phaseWorkflowId(candidate, phase.index(), phase.name()),
                    Optional.empty(),
                    Optional.empty())
                .getResult(10, TimeUnit.SECONDS, PhaseOutcome.class);
        if (outcome != null && outcome.output() != null) {
          return outcome.output();
        }
      } catch (Exception notThere) {
        // Not a phase of this run (a retry took it over), or its history is gone: look further.
      }
      if (current == null || current.retryOf() == null) {
        return null;
      }
      candidate = current.retryOf().runId();
      try {
        current = inputOf(client, candidate);
      } catch (RuntimeException gone) {
        current = null;
      }
    }
    return null;
  }

  /** A reference as a person reads it: where it is in the store, or what it names. */
  static String shown(ArtifactRef ref) {
    return ref == null ? "-" : ref.path() != null ? ref.path() : ref.uri();
  }
}
