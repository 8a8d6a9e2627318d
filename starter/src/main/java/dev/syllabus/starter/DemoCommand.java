package dev.syllabus.starter;

import dev.syllabus.worker.DevEnvironment;
import dev.syllabus.worker.MetricsEndpoint;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowStub;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "demo",
    description = {
      "Run recipes/demo.yaml end to end on this machine and exit when it ends.",
      "Starts a local Temporal (the Temporal CLI's dev server with its Web UI",
      "when `temporal` is on PATH, else an in-process one) and a worker with the",
      "local backend, trains the tiny model through every phase, shows live",
      "progress and a summary. Exits 0 only if the run completed. From another",
      "terminal you can pause, resume, skip or advance it: the demo prints the",
      "address to pass with --address, and the Web UI's link to the run.",
      "With --metrics-port its worker serves Prometheus metrics while it runs."
    })
final class DemoCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin MetricsOption metricsOption;

  @Option(
      names = "--recipe",
      defaultValue = "recipes/demo.yaml",
      description = "the recipe (default ${DEFAULT-VALUE})")
  String recipe;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description =
          "override a recipe field, as `run --set` does, e.g. phases[0].optimizer.lr=0.02 or"
              + " phases[0].config.seed=1")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--id",
      paramLabel = "RUN_ID",
      description = "the run id (default: demo-<date>-<time>-<random>)")
  String runId;

  @Option(
      names = "--port",
      defaultValue = "0",
      description = "the embedded Temporal's port (default: a free one)")
  int port;

  @Option(
      names = "--embedded",
      description = "use the in-process test server even when `temporal` is on PATH (no Web UI)")
  boolean embedded;

  @Override
  public Integer call() throws InterruptedException {
    parent.temporal.refuseRemoteFlags("demo");
    PrintWriter out = spec.commandLine().getOut();
    Recipe r = RecipeFiles.load(parent.paths, recipe, overrides);
    String id = runId != null ? runId : RunCommand.newRunId(r.name());
    String idProblem = Names.checkRunId(id);
    if (idProblem != null) {
      throw new Exit.BadInput("--id: " + idProblem);
    }
    long started = System.nanoTime();
    Optional<MetricsEndpoint> metrics = metricsOption.serve(false);
    DevEnvironment dev;
    try {
      dev =
          DevEnvironment.start(
              new DevEnvironment.Server(
                  port,
                  0,
                  null,
                  parent.paths.home().resolve("temporal").resolve("demo.log"),
                  embedded),
              parent.temporal.localNamespace(),
              parent.paths,
              MetricsOption.scopeOf(metrics));
    } catch (IllegalStateException | Temporal.Unreachable e) {
      metrics.ifPresent(MetricsEndpoint::close);
      throw new Exit.Failed(e.getMessage());
    }
    Temporal temporal = dev.temporal();
    try {
      CurriculumWorkflow run = RunCommand.start(temporal.client(), r, id);
      out.printf("syllabus demo: %s%n", RunCommand.summary(r));
      out.printf(
          "  run %s on a local Temporal at %s (%s); artifacts in %s%n",
          id, dev.address(), dev.server().description(), parent.paths.runs().resolve(id));
      dev.server()
          .webUi()
          .ifPresent(
              ui ->
                  out.printf(
                      "  watch it in the Web UI: %s/namespaces/%s/workflows/%s%n",
                      ui, temporal.namespace(), id));
      metrics.ifPresent(m -> out.printf("  metrics: %s%n", m.url()));
      out.printf(
          "  from another terminal: syllabus pause %s --address %s  (also resume, advance, skip, status)%n%n",
          id, dev.address());
      out.flush();
      Thread onCtrlC = new Thread(() -> cancel(temporal, id), "syllabus-demo-cancel");
      Runtime.getRuntime().addShutdownHook(onCtrlC);

      RunStatus end = follow(temporal, id, out);
      Runtime.getRuntime().removeShutdownHook(onCtrlC);
      double seconds = (System.nanoTime() - started) / 1e9;
      out.println();
      out.print(RunView.table(end));
      out.println(summary(end, seconds, parent.paths.runs().resolve(id).toString()));
      out.flush();
      return RunView.exitCodeOf(end.state());
    } finally {
      dev.close();
      metrics.ifPresent(MetricsEndpoint::close);
    }
  }

  /** Shows progress until the run ends: a line that rewrites itself on a terminal, else a log. */
  private static RunStatus follow(Temporal temporal, String id, PrintWriter out)
      throws InterruptedException {
    boolean terminal = System.console() != null;
    String lastKey = "";
    long lastPrinted = 0;
    while (true) {
      RunStatus status;
      try {
        status = RunView.fetch(temporal.client(), id);
      } catch (Exit.Failed e) {
        TimeUnit.MILLISECONDS.sleep(300);
        continue;
      }
      if (status.state().isFinal()) {
        if (terminal) {
          out.print("\r\033[K");
        }
        return status;
      }
      PhaseStatus phase = status.currentPhase();
      String line =
          String.format(
              Locale.ROOT,
              "%-8s %-9s step %5d/%d (t=%.2f)  loss %s  eval %s",
              phase.name(),
              phase.state(),
              status.step(),
              status.totalSteps(),
              status.t(),
              RunView.number(phase.loss()),
              RunView.number(phase.evalLoss()));
      String key = phase.index() + phase.state().name();
      long now = System.currentTimeMillis();
      if (terminal) {
        out.print("\r\033[K" + line);
        out.flush();
      } else if (!key.equals(lastKey) || now - lastPrinted >= 2000) {
        out.println(line);
        out.flush();
        lastKey = key;
        lastPrinted = now;
      }
      TimeUnit.MILLISECONDS.sleep(500);
    }
  }

  static String summary(RunStatus end, double seconds, String artifacts) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(Locale.ROOT, "%nrun %s %s in %.1f s", end.runId(), end.state(), seconds));
    StringBuilder losses = new StringBuilder();
    for (PhaseStatus p : end.phases()) {
      if (p.evalLoss() != null) {
        losses
            .append(losses.length() == 0 ? "" : " → ")
            .append(p.name())
            .append(' ')
            .append(RunView.number(p.evalLoss()));
      }
    }
    if (losses.length() > 0) {
      out.append("\nheld-out loss after each phase: ").append(losses);
    }
    if (end.state() == RunState.COMPLETED
        && end.artifacts() != null
        && end.artifacts().model() != null) {
      out.append("\nfinal model: ").append(end.artifacts().model().uri());
    }
    if (end.message() != null) {
      out.append("\n").append(end.message());
    }
    out.append("\nartifacts, lineage.json and record.json: ").append(artifacts);
    return out.toString();
  }

  private static void cancel(Temporal temporal, String id) {
    Logging.quietTemporal();
    try {
      WorkflowStub stub =
          WorkflowStub.fromTyped(temporal.client().newWorkflowStub(CurriculumWorkflow.class, id));
      stub.cancel();
      stub.getResult(20, TimeUnit.SECONDS, RunStatus.class);
    } catch (Exception e) {
      // Canceled or timed out: either way the process is going away.
    }
  }
}
