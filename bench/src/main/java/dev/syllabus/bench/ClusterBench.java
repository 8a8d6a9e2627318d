package dev.syllabus.bench;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.KubernetesPhaseActivities;
import dev.syllabus.worker.Paths;
import dev.syllabus.worker.SyllabusWorker;
import dev.syllabus.worker.WorkerCapacity;
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
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.temporal.client.WorkflowClient;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where the bench's measurements on a Kubernetes cluster run: the real {@code kubernetes} backend
 * on a worker of its own, on the testbed bench starts ({@code testbed/up}, with stand-in trainers
 * that take a step a millisecond) or the cluster of {@code --kubeconfig}; the runs of Axolotl SFT
 * phases it starts there; the API server's audit log that counts the worker's requests; and an
 * observer that watches the Jobs and pods. The measurements themselves are {@link ApiRequests},
 * {@link KubernetesHandoff}, {@link PauseLatency} and {@link SimulatedWeek}.
 */
final class ClusterBench implements AutoCloseable {
  /** A step a (simulated) second, reports every 2 simulated seconds. */
  static final RunSettings MINUTES = new RunSettings(2, RunSettings.DEFAULTS.maxHistoryEvents());

  private final WorkflowClient client;
  private final Runs runs;
  private final PrintWriter log;
  private final ClusterTarget target;
  private final KubernetesClient kube;
  private final AuditLog auditLog;
  private final KubernetesPhaseActivities backend;
  private final WorkerFactory workers;
  private int started;

  ClusterBench(
      WorkflowClient client, String queue, Paths paths, ClusterTarget target, PrintWriter log) {
    this(client, queue, paths, target, log, WorkerCapacity.DEFAULT);
  }

  /**
   * With a worker of this capacity, and these interceptors around its workflows and activities (the
   * bench's own counters).
   */
  ClusterBench(
      WorkflowClient client,
      String queue,
      Paths paths,
      ClusterTarget target,
      PrintWriter log,
      WorkerCapacity capacity,
      WorkerInterceptor... interceptors) {
    this.client = client;
    this.runs = new Runs(client, queue);
    this.log = log;
    this.target = target;
    try {
      this.kube =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(Files.readString(target.kubeconfig())))
              .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String user =
        kube.authentication()
            .v1()
            .selfSubjectReviews()
            .create(new SelfSubjectReview())
            .getStatus()
            .getUserInfo()
            .getUsername();
    this.auditLog = new AuditLog(target.auditLog(), user);
    this.backend =
        new KubernetesPhaseActivities(
            new Renderer(new Kubeconfigs(paths.kubeconfigs())),
            new ArtifactStore(target.artifacts()),
            kube,
            target.namespace());
    this.workers =
        WorkerFactory.newInstance(
            client,
            capacity.factoryOptions(
                WorkerFactoryOptions.newBuilder().setWorkerInterceptors(interceptors).build()));
    var worker = workers.newWorker(queue, capacity.workerOptions());
    worker.registerWorkflowImplementationTypes(
        CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    worker.registerActivitiesImplementations(backend, SyllabusWorker.records(backend));
    workers.start();
  }

  WorkflowClient client() {
    return client;
  }

  /** The runs on the cluster's worker. */
  Runs runs() {
    return runs;
  }

  /** Where progress is reported. */
  PrintWriter log() {
    return log;
  }

  ClusterTarget target() {
    return target;
  }

  /** The API server's audit log, counting the worker's requests. */
  AuditLog auditLog() {
    return auditLog;
  }

  /** A new observer of the namespace's Jobs and pods. */
  ClusterObserver observer() {
    return new ClusterObserver(kube, target.namespace());
  }

  /** A new run id, {@code bench-k8s-NAME-…}, unique to this bench. */
  String newRunId(String name) {
    return "bench-k8s-" + name + "-" + (++started) + "-" + Long.toHexString(System.nanoTime());
  }

  /** A phase of the {@code axolotl} framework's {@code sft} job, on one 2-GPU worker. */
  static Phase.Builder sft(String name, double until) {
    return Phase.builder(name)
        .until(until)
        .framework("axolotl", "sft")
        .image("ghcr.io/example/axolotl:0.9")
        .resources("train", new WorkloadResources(2, "8", "64Gi"))
        .data(DataSpec.of("org/sft-mix"))
        .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET));
  }

  /** Starts a run of one Axolotl SFT phase of {@code steps} steps; returns its id. */
  String run(String name, int steps, RunSettings settings) {
    return run(name, steps, settings, sft("sft", 1.0));
  }

  /** Starts a run of one phase, {@code phase}, of {@code steps} steps; returns its id. */
  String run(String name, int steps, RunSettings settings, Phase.Builder phase) {
    String id = newRunId(name);
    Recipe recipe =
        Recipe.builder("bench-k8s-" + name)
            .description("syllabus bench: one Axolotl SFT phase on a cluster")
            .totalSteps(steps)
            .baseModel("Qwen/Qwen2.5-0.5B-Instruct")
            .phase(phase)
            .build();
    runs.start(id, new RunInput(recipe, settings, null));
    return id;
  }

  /**
   * A run of one Axolotl SFT phase, run to its end: how it ended, how long it took, the worker's
   * requests (by verb and resource; null when there is no audit log) and its phase's histories.
   */
  record Measured(
      RunStatus end, double seconds, Map<String, Integer> requests, HistoryChain chain) {}

  /** Runs one Axolotl SFT phase of {@code steps} steps to its end, and measures it. */
  Measured measure(String name, int steps, RunSettings settings) {
    long auditFrom = auditLog.end();
    long startedAt = System.nanoTime();
    String id = run(name, steps, settings);
    RunStatus end = runs.await(id);
    double seconds = (System.nanoTime() - startedAt) / 1e9;
    Runs.requireCompleted(end);
    Map<String, Integer> requests = auditLog.requestsSince(auditFrom);
    return new Measured(end, seconds, requests, HistoryChain.of(client, id + ".0-sft"));
  }

  @Override
  public void close() {
    workers.shutdown();
    workers.awaitTermination(10, TimeUnit.SECONDS);
    backend.close();
    kube.close();
  }
}
