package dev.syllabus.starter;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.KubernetesPhaseActivities;
import dev.syllabus.activities.kubernetes.sim.RequestCounts;
import dev.syllabus.activities.kubernetes.sim.SimulatedCluster;
import dev.syllabus.worker.Paths;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.WorkerFactory;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The bench's measurements against the simulated cluster (fabric8's mock API server in CRUD mode
 * with the simulator that plays the controllers, the scheduler and a GPU node): the API requests of
 * a single-Job phase whose job runs one simulated minute and one that runs sixty, and one phase
 * that follows a job training for a simulated week. The phases are the real workflows with the real
 * {@code kubernetes} backend, on a worker of their own on the bench's server.
 *
 * <p>Time is compressed: the simulated trainer takes a step per millisecond, the run's report
 * period is scaled alike, so a phase's follow activity returns as often as its round trip allows.
 */
final class ClusterBench implements AutoCloseable {
  static final String NAMESPACE = "bench";

  /** The minute and the hour: a step is a simulated second, reports every 2 simulated seconds. */
  private static final Duration STEP = Duration.ofMillis(1);

  private static final RunSettings MINUTES =
      new RunSettings(2, RunSettings.DEFAULTS.maxHistoryEvents());

  /**
   * The week: a step is 10 simulated seconds (60,480 steps), compressed 10,000 times; reports as
   * often as the round trip allows (2 simulated seconds would be 0.2 ms).
   */
  private static final int WEEK_SECONDS_PER_STEP = 10;

  private static final RunSettings WEEK =
      new RunSettings(1, RunSettings.DEFAULTS.maxHistoryEvents());

  private final WorkflowClient client;
  private final String queue;
  private final PrintWriter log;
  private final SimulatedCluster cluster;
  private final KubernetesPhaseActivities backend;
  private final WorkerFactory workers;
  private int runs;

  ClusterBench(WorkflowClient client, String queue, Paths paths, Path artifacts, PrintWriter log) {
    this.client = client;
    this.queue = queue;
    this.log = log;
    this.cluster = SimulatedCluster.start(NAMESPACE, artifacts);
    cluster.trainerSpeed(STEP);
    cluster
        .client()
        .secrets()
        .inNamespace(NAMESPACE)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("hf-token")
                .endMetadata()
                .addToStringData("token", "hf_bench")
                .build())
        .create();
    this.backend =
        new KubernetesPhaseActivities(
            new Renderer(new Kubeconfigs(paths.kubeconfigs())),
            new ArtifactStore(artifacts),
            cluster.client(),
            NAMESPACE);
    this.workers = WorkerFactory.newInstance(client);
    var worker = workers.newWorker(queue);
    worker.registerWorkflowImplementationTypes(
        CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    worker.registerActivitiesImplementations(backend);
    workers.start();
  }

  // --- 3: API requests per phase -------------------------------------------------------------

  /**
   * One Axolotl SFT phase (a single Job) whose job runs 60 steps, one simulated minute, and one
   * whose job runs 3,600, sixty simulated minutes: the requests each makes, by verb and resource,
   * after a first phase has let the worker's informers make their first list and watch.
   */
  void apiRequests(ObjectNode result) {
    log.printf("API requests: single-Job phases on the simulated cluster …%n");
    BenchCommand.awaitRun(client, run("warm-up", 10, MINUTES)); // the informers' first list/watch
    Measured minute = measure("minute", 60, MINUTES);
    Measured hour = measure("hour", 3_600, MINUTES);
    result.put("apiRequestsPerPhaseShort", minute.requests().total());
    result.put("apiRequestsPerPhaseLong", hour.requests().total());
    putCounts(result.putObject("apiRequestsShortByVerb"), minute.requests());
    putCounts(result.putObject("apiRequestsLongByVerb"), hour.requests());
    result.put("apiReportsShort", minute.chain().completed("FollowJob"));
    result.put("apiReportsLong", hour.chain().completed("FollowJob"));
    log.printf(
        Locale.ROOT,
        "  1 simulated minute: %d requests (%d progress reports); 60 simulated minutes: %d requests"
            + " (%d progress reports)%n",
        minute.requests().total(),
        minute.chain().completed("FollowJob"),
        hour.requests().total(),
        hour.chain().completed("FollowJob"));
    log.printf("  by verb and resource, for the 60-minute phase:%n");
    for (String line : hour.requests().toString().split("\n")) {
      log.printf("    %s%n", line);
    }
  }

  // --- 5b: a phase that reports for a simulated week ----------------------------------------

  /**
   * One phase whose job trains for a simulated week ({@code days} simulated days in the quick run):
   * its history across continue-as-new, the progress reports it made, and its API requests.
   */
  void week(int days, ObjectNode result) {
    int steps = days * 24 * 3600 / WEEK_SECONDS_PER_STEP;
    log.printf(
        "a phase following a job that trains for %d simulated day%s (%,d steps) …%n",
        days, days == 1 ? "" : "s", steps);
    // A log line at every step, the most a trainer can report; a checkpoint and an eval every hour.
    cluster.checkpointEvery(360).logEvery(1, 360);
    Measured week = measure("week", steps, WEEK);
    HistoryChain chain = week.chain();
    ObjectNode out = result.putObject("simulatedWeek");
    out.put("simulatedDays", days);
    out.put("steps", steps);
    out.put("completed", week.end().state() == RunState.COMPLETED);
    out.put("wallSeconds", BenchCommand.round(week.seconds()));
    out.put("progressReports", chain.completed("FollowJob"));
    out.put("continuedAsNew", chain.continuedAsNew());
    out.put("maxHistoryEvents", chain.maxEvents());
    out.put("maxHistoryBytes", chain.maxBytes());
    out.put("firstRunInputBytes", chain.firstInputBytes());
    out.put("lastRunInputBytes", chain.lastInputBytes());
    out.put("apiRequests", week.requests().total());
    log.printf(
        Locale.ROOT,
        "  %s in %.1f s: %,d progress reports; the phase continued as new %d times; its largest"
            + " history: %,d events, %,d bytes; input carried into its first run %,d bytes, into"
            + " its last %,d; %d API requests%n",
        week.end().state(),
        week.seconds(),
        chain.completed("FollowJob"),
        chain.continuedAsNew(),
        chain.maxEvents(),
        chain.maxBytes(),
        chain.firstInputBytes(),
        chain.lastInputBytes(),
        week.requests().total());
  }

  // --- helpers ------------------------------------------------------------------------------

  private record Measured(
      RunStatus end, double seconds, RequestCounts requests, HistoryChain chain) {}

  private Measured measure(String name, int steps, RunSettings settings) {
    RequestCounts before = cluster.requests().snapshot();
    long started = System.nanoTime();
    String id = run(name, steps, settings);
    RunStatus end = BenchCommand.awaitRun(client, id);
    double seconds = (System.nanoTime() - started) / 1e9;
    RequestCounts requests = cluster.requests().minus(before);
    BenchCommand.requireCompleted(end);
    return new Measured(end, seconds, requests, HistoryChain.of(client, id + ".0-sft"));
  }

  /** Starts a run of one Axolotl SFT phase of {@code steps} steps; returns its id. */
  private String run(String name, int steps, RunSettings settings) {
    String id = "bench-k8s-" + name + "-" + (++runs) + "-" + Long.toHexString(System.nanoTime());
    Recipe recipe =
        Recipe.builder("bench-k8s-" + name)
            .description("syllabus bench: one Axolotl SFT phase on the simulated cluster")
            .totalSteps(steps)
            .baseModel("Qwen/Qwen2.5-0.5B-Instruct")
            .phase(
                Phase.builder("sft")
                    .until(1.0)
                    .framework("axolotl", "sft")
                    .image("ghcr.io/example/axolotl:0.9")
                    .resources("train", new WorkloadResources(2, "8", "64Gi"))
                    .data(DataSpec.of("org/sft-mix"))
                    .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET)))
            .build();
    BenchCommand.startRun(client, queue, id, new RunInput(recipe, settings, null));
    return id;
  }

  private static void putCounts(ObjectNode node, RequestCounts counts) {
    for (Map.Entry<String, Integer> e : counts.asMap().entrySet()) {
      node.put(e.getKey(), e.getValue());
    }
  }

  @Override
  public void close() {
    workers.shutdown();
    workers.awaitTermination(10, TimeUnit.SECONDS);
    backend.close();
    cluster.close();
  }
}
