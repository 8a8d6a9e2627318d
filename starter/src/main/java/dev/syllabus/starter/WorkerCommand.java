package dev.syllabus.starter;

import dev.syllabus.activities.kubernetes.KubernetesConnection;
import dev.syllabus.worker.MetricsEndpoint;
import dev.syllabus.worker.SyllabusWorker;
import dev.syllabus.worker.Temporal;
import dev.syllabus.worker.WorkerCapacity;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.PhaseActivities;
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
    name = "worker",
    description = {
      "Run a worker against --address until Ctrl-C: it runs the workflows and the phases' jobs.",
      "Backends: local (jobs as processes on this machine) and kubernetes (jobs as Kubernetes",
      "objects in --k8s-namespace, from the kubeconfig or, in a pod, its service account; the",
      "artifact PVC mounted at --artifacts). --namespace is the Temporal namespace.",
      "With --metrics-port it serves Prometheus metrics (docs/monitoring.md)."
    })
final class WorkerCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin MetricsOption metricsOption;

  /** The backends a worker can run phases with. */
  enum Backend {
    local,
    kubernetes
  }

  @Option(
      names = "--backend",
      defaultValue = "local",
      description = "where jobs run: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  Backend backend;

  @Option(
      names = "--task-queue",
      defaultValue = CurriculumWorkflow.TASK_QUEUE,
      description = "the task queue to poll (default ${DEFAULT-VALUE})")
  String taskQueue;

  @Option(
      names = "--k8s-namespace",
      paramLabel = "NS",
      description =
          "kubernetes: the namespace phases run in (env "
              + KubernetesConnection.NAMESPACE_ENV
              + "; default: the kubeconfig context's, in a pod its own, else default)")
  String k8sNamespace;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "kubernetes: the kubeconfig file (default: KUBECONFIG, ~/.kube/config, or"
              + " in-cluster)")
  Path kubeconfig;

  @Option(
      names = "--artifacts",
      paramLabel = "DIR",
      description =
          "kubernetes: where this worker mounts the artifact PVC the phases mount as"
              + " syllabus-artifacts (default ${DEFAULT-VALUE})",
      defaultValue = "/mnt/syllabus")
  Path artifacts;

  @Option(
      names = "--max-running-phases",
      paramLabel = "N",
      defaultValue = "" + WorkerCapacity.DEFAULT_PHASES,
      description =
          "how many phases this worker follows at once; sizes Temporal's activity slots (N+100),"
              + " workflow cache (2N+100) and workflow threads (twice the cache) (default"
              + " ${DEFAULT-VALUE}; docs/kubernetes.md, \"Worker capacity\")")
  int maxRunningPhases;

  @Override
  public Integer call() throws InterruptedException {
    if (maxRunningPhases < 1) {
      throw new Exit.BadInput(
          "--max-running-phases " + maxRunningPhases + ": a worker runs at least 1 phase at once");
    }
    WorkerCapacity capacity = WorkerCapacity.forPhases(maxRunningPhases);
    Logging.showWorkerActivity();
    KubernetesConnection cluster = null;
    PhaseActivities activities;
    String where;
    if (backend == Backend.kubernetes) {
      if (!Files.isDirectory(artifacts)) {
        throw new Exit.BadInput(
            "--artifacts "
                + artifacts
                + ": no such folder; mount the artifact PVC there (see deploy/) or name where it"
                + " is mounted");
      }
      try {
        cluster = KubernetesConnection.open(kubeconfig, k8sNamespace);
      } catch (IllegalArgumentException e) {
        throw new Exit.BadInput(e.getMessage());
      }
      activities = SyllabusWorker.kubernetesBackend(parent.paths, cluster, artifacts);
      where =
          "namespace "
              + cluster.namespace()
              + " at "
              + cluster.server()
              + "; artifacts in "
              + artifacts;
    } else {
      activities = SyllabusWorker.localBackend(parent.paths);
      where = "artifacts in " + parent.paths.runs();
    }
    Optional<MetricsEndpoint> metrics = metricsOption.serve(true);
    Temporal temporal;
    try {
      temporal = parent.temporal.connect(MetricsOption.scopeOf(metrics));
    } catch (RuntimeException e) {
      metrics.ifPresent(MetricsEndpoint::close);
      throw e;
    }
    RunCommand.ensureSearchAttributes(temporal);
    SyllabusWorker worker;
    try {
      worker = SyllabusWorker.start(temporal, activities, taskQueue, capacity);
    } catch (RuntimeException e) {
      temporal.close();
      metrics.ifPresent(MetricsEndpoint::close);
      throw e;
    }
    KubernetesConnection connection = cluster;
    Runnable stop =
        Logging.once(
            () -> {
              worker.close();
              if (activities instanceof AutoCloseable closeable) {
                try {
                  closeable.close();
                } catch (Exception e) {
                  // shutting down: nothing more to do
                }
              }
              if (connection != null) {
                connection.close();
              }
              temporal.close();
              metrics.ifPresent(MetricsEndpoint::close);
            });
    Thread onCtrlC = new Thread(stop, "syllabus-worker-shutdown");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    spec.commandLine()
        .getOut()
        .println(
            "syllabus worker: "
                + backend
                + " backend, polling "
                + taskQueue
                + " at "
                + temporal.settings().describe()
                + "; "
                + where
                + "; "
                + capacity.describe());
    metrics.ifPresent(
        m ->
            spec.commandLine()
                .getOut()
                .println("  metrics: " + m.url() + " (port " + m.port() + " on every interface)"));
    spec.commandLine().getOut().flush();
    Logging.serveUntilInterrupted(stop, onCtrlC);
    return Exit.OK;
  }
}
