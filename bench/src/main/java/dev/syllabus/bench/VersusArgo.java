package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.percentile;
import static dev.syllabus.bench.Statistics.round;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.activities.Renderer;
import dev.syllabus.bench.StepChain.StepPod;
import dev.syllabus.starter.Exit;
import dev.syllabus.worker.Paths;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code syllabus bench --versus-argo}: the same chain of steps, each a pod that runs busybox
 * {@code sleep S} on the testbed's player, run side by side on one testbed by Argo Workflows (a
 * Workflow of sequential container steps, one controller per requeue setting, each in a namespace
 * of its own) and by Syllabus (a curriculum of single-Job phases on the {@code kubernetes}
 * backend). One pod watcher times both: each step-to-step gap (a pod Succeeded → the next step's
 * pod created) and the chain's overhead beyond its steps' own time.
 *
 * <p>Argo's step is a bare pod; Syllabus's is a Job (the Job controller creates its pod). An Argo
 * {@code resource:} template that made a Job would need argoexec running inside a pod, which the
 * testbed does not run; so each engine runs its own native unit of work, and the numbers include
 * the Job controller's hop for Syllabus.
 */
final class VersusArgo {
  /** The label Argo puts on each pod of a Workflow: the Workflow's name. */
  private static final String ARGO_WORKFLOW_LABEL = "workflows.argoproj.io/workflow";

  /** Argo's {@code DEFAULT_REQUEUE_TIME} unset: the controller's default, 10 s. */
  static final String ARGO_DEFAULT = "default";

  /** Reports at the run's usual period; no continue-as-new. */
  private static final RunSettings SETTINGS = new RunSettings(2_000, 0);

  /** How long a chain may take before the bench gives up on it. */
  private static final long CHAIN_TIMEOUT_NANOS = 60L * 60 * 1_000_000_000;

  private VersusArgo() {}

  /**
   * What to run: {@code steps} steps of {@code stepSeconds} each, against Argo at each of {@code
   * requeueTimes} ({@link #ARGO_DEFAULT} or a Go duration).
   */
  record Chain(int steps, double stepSeconds, List<String> requeueTimes) {
    Chain {
      if (steps < 2) {
        throw new Exit.BadInput("bench: --steps must be at least 2 (a gap needs two steps)");
      }
      if (!(stepSeconds > 0)) {
        throw new Exit.BadInput("bench: --step-seconds must be positive");
      }
      for (String time : requeueTimes) {
        if (!time.equals(ARGO_DEFAULT) && !time.matches("[0-9]+(\\.[0-9]+)?(ms|s|m)")) {
          throw new Exit.BadInput(
              "bench: --argo-requeue takes 'default' or Go durations such as 1s, got '"
                  + time
                  + "'");
        }
      }
      requeueTimes = List.copyOf(requeueTimes);
    }
  }

  /** One engine's side: where its pods run, and how to start a chain of it. */
  private record Engine(String name, String namespace, String requeueTime) {}

  /**
   * Starts an Argo controller for each requeue setting on {@code testbed}, runs a warm-up chain of
   * one step on every engine, then the measured chains, all side by side; puts the numbers in
   * {@code result.versusArgo}.
   */
  static void measure(
      BenchTestbed testbed,
      WorkflowClient client,
      String queue,
      Path home,
      Chain chain,
      PrintWriter log,
      ObjectNode result) {
    ClusterTarget target = testbed.target();
    List<Engine> argos = new ArrayList<>();
    for (String time : chain.requeueTimes()) {
      String namespace =
          time.equals(ARGO_DEFAULT) ? "argo-default" : "argo-requeue-" + time.replace('.', '-');
      log.printf("Versus Argo: starting Argo's controller in %s (requeue %s) …%n", namespace, time);
      testbed.startArgo(namespace, time.equals(ARGO_DEFAULT) ? null : time);
      argos.add(
          new Engine(
              "Argo Workflows v3.7.18, DEFAULT_REQUEUE_TIME "
                  + (time.equals(ARGO_DEFAULT) ? "unset (10s)" : time),
              namespace,
              time));
    }
    Engine syllabus = new Engine("Syllabus, kubernetes backend", target.namespace(), null);
    Paths withSleep = new Paths(sleepFramework(home, chain.stepSeconds()), home);

    Map<String, Long> created = new ConcurrentHashMap<>();
    Map<String, Long> succeeded = new ConcurrentHashMap<>();
    Map<String, String> chainOf = new ConcurrentHashMap<>();
    Map<String, String> jobOf = new ConcurrentHashMap<>();
    Map<String, Long> jobComplete = new ConcurrentHashMap<>();
    try (KubernetesClient admin = client(testbed.adminKubeconfig());
        ClusterBench cluster = new ClusterBench(client, queue, withSleep, target, log);
        Watch pods =
            ClusterObserver.chainPods(
                admin,
                List.of(ARGO_WORKFLOW_LABEL, Renderer.RUN_LABEL),
                created,
                succeeded,
                chainOf,
                jobOf);
        Watch jobs = new ClusterObserver(admin, target.namespace()).jobsComplete(jobComplete)) {
      log.printf("Versus Argo: a warm-up chain of one step on each engine …%n");
      runSideBySide(admin, cluster, syllabus, argos, 1, chain.stepSeconds(), "warm-up");
      log.printf(
          Locale.ROOT,
          "Versus Argo: %d steps of %.1f s on each engine, side by side …%n",
          chain.steps(),
          chain.stepSeconds());
      Map<Engine, Submitted> runs =
          runSideBySide(
              admin, cluster, syllabus, argos, chain.steps(), chain.stepSeconds(), "chain");
      ObjectNode out = result.putObject("versusArgo");
      out.put("steps", chain.steps());
      out.put("stepSeconds", chain.stepSeconds());
      out.put("cluster", target.description());
      ArrayNode engines = out.putArray("engines");
      StepChain ours = null;
      List<StepChain> theirs = new ArrayList<>();
      for (Map.Entry<Engine, Submitted> run : runs.entrySet()) {
        Engine engine = run.getKey();
        StepChain measured =
            chainOf(engine, run.getValue(), chain.stepSeconds(), created, succeeded, chainOf);
        ObjectNode numbers = engines.addObject();
        report(measured, numbers, engine, log);
        if (engine == syllabus) {
          ours = measured;
          Map<String, Long> jobCompleteByPod = new LinkedHashMap<>();
          jobOf.forEach(
              (pod, job) -> {
                if (jobComplete.containsKey(job)) {
                  jobCompleteByPod.put(pod, jobComplete.get(job));
                }
              });
          reportJobHop(measured.gapsSplitAt(jobCompleteByPod), numbers, log);
        } else {
          theirs.add(measured);
        }
      }
      ArrayNode ratios = out.putArray("ratios");
      for (StepChain argo : theirs) {
        ObjectNode ratio = ratios.addObject();
        ratio.put("engine", argo.engine());
        double gap = p50(argo.gapsMillis()) / p50(ours.gapsMillis());
        double overhead = argo.overheadSeconds() / ours.overheadSeconds();
        ratio.put("gapP50ArgoOverSyllabus", round(gap));
        ratio.put("overheadArgoOverSyllabus", round(overhead));
        log.printf(
            Locale.ROOT,
            "  %s ÷ Syllabus: gap p50 × %.2f, chain overhead × %.2f%n",
            argo.engine(),
            gap,
            overhead);
      }
    }
  }

  /** A chain as submitted: its id (the Workflow's or the run's name) and when. */
  private record Submitted(String id, long nanos) {}

  /**
   * Submits a chain of {@code steps} steps to every engine, one right after the other, then waits
   * until each has ended; fails the bench unless all succeeded.
   */
  private static Map<Engine, Submitted> runSideBySide(
      KubernetesClient admin,
      ClusterBench cluster,
      Engine syllabus,
      List<Engine> argos,
      int steps,
      double stepSeconds,
      String name) {
    Map<Engine, Submitted> submitted = new LinkedHashMap<>();
    String runId = cluster.newRunId("versus-argo-" + name);
    long at = System.nanoTime();
    cluster.runs().start(runId, new RunInput(recipe(steps), SETTINGS, null));
    submitted.put(syllabus, new Submitted(runId, at));
    for (Engine argo : argos) {
      String workflow = name + "-" + Runs.shortId();
      GenericKubernetesResource resource = argoWorkflow(workflow, steps, stepSeconds);
      at = System.nanoTime();
      workflows(admin, argo.namespace()).resource(resource).create();
      submitted.put(argo, new Submitted(workflow, at));
    }
    Runs.requireCompleted(cluster.runs().await(runId));
    for (Engine argo : argos) {
      awaitArgo(admin, argo.namespace(), submitted.get(argo).id());
    }
    return submitted;
  }

  /** A curriculum of {@code steps} single-Job phases of the bench's sleep framework. */
  static Recipe recipe(int steps) {
    Recipe.Builder recipe =
        Recipe.builder("bench-versus-argo")
            .description("syllabus bench --versus-argo: a chain of fixed-time steps")
            .totalSteps(10L * steps);
    for (int i = 0; i < steps; i++) {
      recipe.phase(Phase.builder("s" + i).steps(10).framework("sleep", "job"));
    }
    return recipe.build();
  }

  /**
   * An Argo Workflow of {@code steps} sequential steps, each a container template that runs busybox
   * {@code sleep} (with the explicit command the controller needs when it cannot read an image's
   * entrypoint) and requests what the Syllabus step's Job requests.
   */
  static GenericKubernetesResource argoWorkflow(String name, int steps, double stepSeconds) {
    List<Object> sequence = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      sequence.add(List.of(Map.of("name", "s" + i, "template", "step")));
    }
    Map<String, Object> step =
        Map.of(
            "name",
            "step",
            "container",
            Map.of(
                "image",
                "busybox:1.36",
                "command",
                List.of("sh", "-c", "sleep " + seconds(stepSeconds)),
                "resources",
                Map.of("requests", Map.of("cpu", "10m", "memory", "16Mi"))));
    Map<String, Object> spec =
        Map.of(
            "entrypoint",
            "chain",
            "templates",
            List.of(Map.of("name", "chain", "steps", sequence), step));
    return new GenericKubernetesResourceBuilder()
        .withApiVersion("argoproj.io/v1alpha1")
        .withKind("Workflow")
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .addToAdditionalProperties("spec", spec)
        .build();
  }

  private static NonNamespaceOperation<
          GenericKubernetesResource,
          GenericKubernetesResourceList,
          Resource<GenericKubernetesResource>>
      workflows(KubernetesClient admin, String namespace) {
    return admin
        .genericKubernetesResources("argoproj.io/v1alpha1", "Workflow")
        .inNamespace(namespace);
  }

  /**
   * Waits until Argo Workflow {@code name} has ended (its {@code status.phase} read every half
   * second: the harness's wait, not what is measured); fails the bench unless it Succeeded.
   */
  private static void awaitArgo(KubernetesClient admin, String namespace, String name) {
    long deadline = System.nanoTime() + CHAIN_TIMEOUT_NANOS;
    while (System.nanoTime() < deadline) {
      GenericKubernetesResource workflow = workflows(admin, namespace).withName(name).get();
      Object status = workflow == null ? null : workflow.getAdditionalProperties().get("status");
      Object phase = status instanceof Map<?, ?> map ? map.get("phase") : null;
      if ("Succeeded".equals(phase)) {
        return;
      }
      if ("Failed".equals(phase) || "Error".equals(phase)) {
        Object message = ((Map<?, ?>) status).get("message");
        throw new Exit.Failed(
            "bench: Argo Workflow " + namespace + "/" + name + " ended " + phase + ": " + message);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Exit.Failed("bench: interrupted while waiting for Argo Workflow " + name);
      }
    }
    throw new Exit.Failed(
        "bench: Argo Workflow " + namespace + "/" + name + " did not end within an hour");
  }

  /** The pods the watcher saw of one engine's chain, with both of their times. */
  private static StepChain chainOf(
      Engine engine,
      Submitted run,
      double stepSeconds,
      Map<String, Long> created,
      Map<String, Long> succeeded,
      Map<String, String> chainOf) {
    String chain = engine.namespace() + "/" + run.id();
    List<StepPod> pods = new ArrayList<>();
    chainOf.forEach(
        (pod, of) -> {
          if (of.equals(chain)) {
            Long done = succeeded.get(pod);
            if (done == null) {
              throw new Exit.Failed(
                  "bench: the watcher never saw pod " + pod + " Succeeded, though its chain did");
            }
            pods.add(new StepPod(pod, created.get(pod), done));
          }
        });
    if (pods.isEmpty()) {
      throw new Exit.Failed("bench: the watcher saw no pod of " + chain);
    }
    return new StepChain(engine.name(), run.nanos(), pods, stepSeconds);
  }

  private static void report(StepChain chain, ObjectNode out, Engine engine, PrintWriter log) {
    List<Double> gaps = new ArrayList<>(chain.gapsMillis());
    gaps.sort(null);
    List<Double> podSeconds = chain.podSecondsSorted();
    out.put("engine", chain.engine());
    out.put("namespace", engine.namespace());
    if (engine.requeueTime() != null) {
      out.put("argoRequeueTime", engine.requeueTime());
    }
    out.put("pods", chain.pods().size());
    out.put("gaps", gaps.size());
    out.put("gapP50Ms", round(percentile(gaps, 50)));
    out.put("gapP99Ms", round(percentile(gaps, 99)));
    out.put("gapMinMs", round(gaps.get(0)));
    out.put("gapMaxMs", round(gaps.get(gaps.size() - 1)));
    out.put("firstStepMs", round(chain.firstStepMillis()));
    out.put("podSecondsP50", round(percentile(podSeconds, 50)));
    out.put("wallSeconds", round(chain.wallSeconds()));
    out.put("overheadSeconds", round(chain.overheadSeconds()));
    log.printf(
        Locale.ROOT,
        "  %s: gap p50 %.0f ms, p99 %.0f ms (min %.0f, max %.0f); first pod %.0f ms after"
            + " submit; pod p50 %.2f s; chain %.1f s, overhead %.1f s%n",
        chain.engine(),
        percentile(gaps, 50),
        percentile(gaps, 99),
        gaps.get(0),
        gaps.get(gaps.size() - 1),
        chain.firstStepMillis(),
        percentile(podSeconds, 50),
        chain.wallSeconds(),
        chain.overheadSeconds());
  }

  /**
   * Syllabus's gaps set against the moment its Job was seen Complete: how long after its pod
   * Succeeded the Job controller marked the Job Complete, and when the next Job's pod was created
   * relative to that (before it, negative: Syllabus moves on when every rank's pod has Succeeded at
   * the last checkpoint, not when the Job controller gets to the Job).
   */
  private static void reportJobHop(List<double[]> parts, ObjectNode out, PrintWriter log) {
    if (parts.isEmpty()) {
      return;
    }
    List<Double> toComplete = new ArrayList<>();
    List<Double> toNextPod = new ArrayList<>();
    for (double[] part : parts) {
      toComplete.add(part[0]);
      toNextPod.add(part[1]);
    }
    double nextPod = p50(toNextPod);
    out.put("podSucceededToJobCompleteP50Ms", round(p50(toComplete)));
    out.put("jobCompleteToNextPodP50Ms", round(nextPod));
    log.printf(
        Locale.ROOT,
        "    the Job controller marked each Job Complete p50 %.0f ms after its pod Succeeded; the"
            + " next phase's pod was created p50 %.0f ms %s that%n",
        p50(toComplete),
        Math.abs(nextPod),
        nextPod < 0 ? "before" : "after");
  }

  private static double p50(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return percentile(sorted, 50);
  }

  /** A number of seconds as {@code sleep} takes it: no exponent, no trailing zeros. */
  static String seconds(double value) {
    return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }

  /**
   * Writes the bench's {@code sleep} framework (from this jar's resources, its step {@code
   * stepSeconds} long) as a {@code kubeconfigs/} folder under {@code home}; returns the folder that
   * holds {@code kubeconfigs/}, for {@link Paths#kubeconfigs}.
   */
  private static Path sleepFramework(Path home, double stepSeconds) {
    Path root = home.resolve("versus-argo");
    Path framework = root.resolve("kubeconfigs/sleep");
    try {
      Files.createDirectories(framework.resolve("job"));
      Files.writeString(framework.resolve("framework.yaml"), resource("framework.yaml"));
      Files.writeString(
          framework.resolve("job/job.yaml"),
          resource("job/job.yaml").replace("@STEP_SECONDS@", seconds(stepSeconds)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return root;
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = VersusArgo.class.getResourceAsStream("/versus-argo/sleep/" + name)) {
      if (in == null) {
        throw new IllegalStateException("the bench jar lacks /versus-argo/sleep/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static KubernetesClient client(Path kubeconfig) {
    try {
      return new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
