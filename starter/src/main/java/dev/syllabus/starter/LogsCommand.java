package dev.syllabus.starter;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.KubernetesConnection;
import dev.syllabus.activities.local.JobFolder;
import dev.syllabus.activities.record.RunRecords;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.recipe.FrameworkCatalog;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "logs",
    description = {
      "Print what a phase's trainer (or one of its servers) printed: the running",
      "phase's, or --phase's, latest attempt. With --follow, what it prints next,",
      "until its job ends (it completes, fails or is paused) or Ctrl-C.",
      "",
      "Which job: the run's status names the phase and its latest attempt (for a",
      "run that runs or failed a worker must be up, as for `syllabus status`).",
      "With no Temporal up on this machine (after `demo`), the run's record",
      "($SYLLABUS_HOME/runs/RUN/record.json) says which job ran last.",
      "Where: a run with a folder under $SYLLABUS_HOME/runs on this machine ran",
      "on the local backend, and its job's output.log is read there. Any other",
      "run (or with --kubeconfig or --k8s-namespace) is read from Kubernetes",
      "through the API server with your kubeconfig: the pods of the attempt's",
      "Job, or, for a server, the pods labelled with its role. A finished Job's",
      "logs stay a day; a phase's servers, and their logs, go with the phase.",
      "A trainer on several nodes prints its progress from rank 0, whose pods are",
      "read unless --rank names another.",
      "",
      "Example: syllabus logs qwen-run-7 --phase grpo --workload vllm --tail 50"
    })
final class LogsCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RUN_ID")
  String runId;

  @Option(
      names = "--phase",
      paramLabel = "NAME",
      description = "the phase (default: the one running, or the last one the run ran)")
  String phase;

  @Option(
      names = "--workload",
      paramLabel = "NAME",
      defaultValue = "trainer",
      description =
          "trainer, or a server of the phase, e.g. vllm or rewards (its role in the framework's"
              + " manifests; default ${DEFAULT-VALUE})")
  String workload;

  @Option(
      names = "--rank",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "kubernetes: the rank of a trainer on several nodes (default: 0, the one"
              + " that prints the progress)")
  int rank;

  @Option(
      names = {"-f", "--follow"},
      description = "keep printing what it prints until its job ends")
  boolean follow;

  @Option(
      names = "--tail",
      paramLabel = "N",
      description = "only the last N lines (of each pod, on Kubernetes); default: all")
  Integer tail;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "kubernetes: the kubeconfig file (default: KUBECONFIG, ~/.kube/config); reads the"
              + " cluster even when this machine has the run's folder")
  Path kubeconfig;

  @Option(
      names = "--k8s-namespace",
      paramLabel = "NS",
      description =
          "kubernetes: the namespace the run's phases run in (env "
              + KubernetesConnection.NAMESPACE_ENV
              + "; default: the kubeconfig context's, else default)")
  String k8sNamespace;

  @Override
  public Integer call() throws InterruptedException {
    if (tail != null && tail < 0) {
      throw new Exit.BadInput("--tail: must be 0 or more, not " + tail);
    }
    if (rank < 0) {
      throw new Exit.BadInput("--rank: must be 0 or more, not " + rank);
    }
    String role = "trainer".equals(workload) ? Renderer.TRAIN_ROLE : workload;
    if (rank != 0 && !Renderer.TRAIN_ROLE.equals(role)) {
      throw new Exit.BadInput("--rank: only the trainer runs on several nodes, not " + workload);
    }
    PhaseStatus shown = phaseWithAJob(role);
    JobRef job = JobRef.of(runId, shown.index(), shown.name(), shown.attempt());
    LogLines out = new LogLines(spec.commandLine().getOut());
    boolean local =
        kubeconfig == null
            && k8sNamespace == null
            && Files.isDirectory(parent.paths.runs().resolve(runId));
    if (local) {
      printLocal(job, role, out);
    } else {
      printFromCluster(job, role, out);
    }
    return Exit.OK;
  }

  /**
   * The phase whose job to read, as the run's status says (with --follow, once it started a job);
   * when the Temporal this command reaches would run on this machine and is not up, as the run's
   * record says.
   */
  private PhaseStatus phaseWithAJob(String role) throws InterruptedException {
    Temporal temporal;
    try {
      temporal = parent.temporal.connect();
    } catch (Exit.Failed unreachable) {
      RunStatus recorded = recorded().orElseThrow(() -> unreachable);
      PhaseStatus shown = chosenPhase(recorded);
      requireWorkload(shown, role);
      if (shown.attempt() == 0) {
        throw notStarted(shown);
      }
      return shown;
    }
    try (Temporal connected = temporal) {
      RunStatus run = RunView.fetch(connected.client(), runId);
      PhaseStatus shown = chosenPhase(run);
      requireWorkload(shown, role);
      while (shown.attempt() == 0) {
        if (!follow || shown.state().isFinal() || run.state().isFinal()) {
          throw notStarted(shown);
        }
        Thread.sleep(1000);
        run = RunView.fetch(connected.client(), runId);
        shown = run.phases().get(shown.index());
      }
      return shown;
    }
  }

  private Exit.Failed notStarted(PhaseStatus shown) {
    return new Exit.Failed(
        "phase '"
            + shown.name()
            + "' of run "
            + runId
            + " has not started a job ("
            + shown.state()
            + (shown.message() == null ? "" : ": " + shown.message())
            + "); --follow waits for it");
  }

  /**
   * The run as its record on this machine last said, when the Temporal this command would reach
   * runs on this machine (it is not up); else nothing.
   */
  private Optional<RunStatus> recorded() {
    if (!parent.temporal.onThisMachine() || kubeconfig != null || k8sNamespace != null) {
      return Optional.empty();
    }
    Path file = RunRecords.fileOf(parent.paths.runs(), runId);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(RecordedRuns.status(RunRecords.read(file)));
    } catch (RunRecords.NotARecord e) {
      return Optional.empty();
    }
  }

  private PhaseStatus chosenPhase(RunStatus run) {
    if (phase == null) {
      return run.currentPhase();
    }
    return run.phases().stream()
        .filter(p -> p.name().equals(phase))
        .findFirst()
        .orElseThrow(
            () ->
                new Exit.BadInput(
                    "--phase: run "
                        + runId
                        + " has no phase '"
                        + phase
                        + "'; its phases: "
                        + String.join(
                            ", ", run.phases().stream().map(PhaseStatus::name).toList())));
  }

  /** BadInput unless the phase's workload (its framework's manifests) runs {@code role}. */
  private void requireWorkload(PhaseStatus shown, String role) {
    Set<String> roles;
    try {
      FrameworkCatalog.Framework framework =
          new Kubeconfigs(parent.paths.kubeconfigs()).catalog().frameworks().get(shown.framework());
      roles = framework == null ? null : framework.workloads().get(shown.workload());
    } catch (RuntimeException e) {
      roles = null; // kubeconfigs/ cannot be read here: the pods will tell
    }
    if (roles == null || roles.isEmpty() || roles.contains(role)) {
      return;
    }
    // The trainer first, then the servers by name.
    List<String> names =
        roles.stream()
            .sorted(
                Comparator.comparing((String r) -> !Renderer.TRAIN_ROLE.equals(r))
                    .thenComparing(r -> r))
            .map(r -> Renderer.TRAIN_ROLE.equals(r) ? "trainer" : r)
            .toList();
    throw new Exit.BadInput(
        "--workload: phase '"
            + shown.name()
            + "' ("
            + shown.framework()
            + "/"
            + shown.workload()
            + ") has no workload '"
            + workload
            + "'; its workloads: "
            + String.join(", ", names));
  }

  private void printLocal(JobRef job, String role, LogLines out) throws InterruptedException {
    if (rank != 0) {
      throw new Exit.BadInput(
          "--rank: run " + runId + " runs on the local backend, which runs a trainer on one node");
    }
    if (!Renderer.TRAIN_ROLE.equals(role)) {
      throw new Exit.BadInput(
          "--workload: run "
              + runId
              + " runs on the local backend, which runs only a phase's trainer");
    }
    LocalJobLog log = new LocalJobLog(JobFolder.of(parent.paths.runs(), job));
    if (!log.exists()) {
      throw new Exit.Failed(
          "job "
              + job.name()
              + " of run "
              + runId
              + " has no log on this machine yet (under "
              + parent.paths.runs()
              + ")");
    }
    log.print(tail, follow, out);
  }

  private void printFromCluster(JobRef job, String role, LogLines out) throws InterruptedException {
    KubernetesConnection cluster;
    try {
      cluster = KubernetesConnection.openForCommand(kubeconfig, k8sNamespace);
    } catch (IllegalArgumentException e) {
      throw new Exit.BadInput(e.getMessage());
    } catch (KubernetesClientException e) {
      throw new Exit.BadInput("cannot read the kubeconfig: " + e.getMessage());
    }
    try (cluster) {
      String where = cluster.describe(kubeconfig);
      ClusterJobLog log = new ClusterJobLog(cluster.client(), cluster.namespace(), job, role, rank);
      String notLocal =
          "run "
              + runId
              + " has no folder under "
              + parent.paths.runs()
              + ", so it is not a local"
              + " run on this machine";
      try {
        if (log.pods().isEmpty() && !follow) {
          throw new Exit.Failed(
              "no pods of phase '"
                  + job.phase()
                  + "' (attempt "
                  + job.attempt()
                  + ") run its "
                  + workload
                  + (rank == 0 ? "" : " rank " + rank)
                  + " in namespace "
                  + cluster.namespace()
                  + " at "
                  + where
                  + " (a Job's pods stay a day after it ends, a phase's servers go with it; "
                  + notLocal
                  + ")");
        }
        log.print(tail, follow, out);
      } catch (KubernetesClientException e) {
        throw new Exit.Failed(
            "cannot read the pods of run "
                + runId
                + " in namespace "
                + cluster.namespace()
                + " at "
                + where
                + ": "
                + problem(e)
                + "; check that `kubectl get pods -n "
                + cluster.namespace()
                + "` works, or pass --kubeconfig / --k8s-namespace ("
                + notLocal
                + ")");
      }
    }
  }

  private static String problem(KubernetesClientException e) {
    if (e.getCode() > 0 && e.getStatus() != null && e.getStatus().getMessage() != null) {
      return "HTTP " + e.getCode() + " " + e.getStatus().getMessage();
    }
    return Temporal.rootMessage(e);
  }
}
