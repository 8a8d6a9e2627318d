package dev.syllabus.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.KubernetesPhaseActivities;
import dev.syllabus.starter.Exit;
import dev.syllabus.worker.Paths;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.Watchable;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The bench's measurements on a Kubernetes cluster, with the real {@code kubernetes} backend on a
 * worker of its own: the testbed bench starts ({@code testbed/up}, with stand-in trainers that take
 * a step a millisecond) or the cluster of {@code --kubeconfig}. It measures the API requests of a
 * single-Job phase whose job runs one minute and one that runs sixty (a step a second), as the API
 * server counts them in its audit log; the Kubernetes handoff (the previous phase's Job Complete to
 * the next phase's trainer pod Running) and pause latency (pause sent to the trainer's pod gone,
 * its GPUs free), both as an observer's watch sees them; and one phase following a job that trains
 * for a week, compressed.
 */
final class ClusterBench implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Where the measurements run.
   *
   * @param kubeconfig the worker's kubeconfig (the bench's observer uses it too)
   * @param namespace where the phases run
   * @param artifacts the folder the artifact claim's volume is, as this machine sees it
   * @param auditLog the API server's audit log, or null when it cannot be read
   * @param description what the cluster is, for the report
   * @param secondsPerStep how long a trainer's step takes there, for the compressed week
   */
  record Target(
      Path kubeconfig,
      String namespace,
      Path artifacts,
      Path auditLog,
      String description,
      double secondsPerStep) {}

  /** A step a (simulated) second, reports every 2 simulated seconds. */
  private static final RunSettings MINUTES =
      new RunSettings(2, RunSettings.DEFAULTS.maxHistoryEvents());

  /** The week: a step is 10 simulated seconds (60,480 steps); reports as often as possible. */
  private static final int WEEK_SECONDS_PER_STEP = 10;

  private static final RunSettings WEEK =
      new RunSettings(1, RunSettings.DEFAULTS.maxHistoryEvents());

  /** Phases whose handoffs are timed; reports at the run's usual period. */
  private static final RunSettings HANDOFFS = new RunSettings(2_000, 0);

  private final WorkflowClient client;
  private final String queue;
  private final PrintWriter log;
  private final Target target;
  private final KubernetesClient kube;
  private final String user;
  private final KubernetesPhaseActivities backend;
  private final WorkerFactory workers;
  private int runs;

  ClusterBench(WorkflowClient client, String queue, Paths paths, Target target, PrintWriter log) {
    this.client = client;
    this.queue = queue;
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
    this.user =
        kube.authentication()
            .v1()
            .selfSubjectReviews()
            .create(new SelfSubjectReview())
            .getStatus()
            .getUserInfo()
            .getUsername();
    this.backend =
        new KubernetesPhaseActivities(
            new Renderer(new Kubeconfigs(paths.kubeconfigs())),
            new ArtifactStore(target.artifacts()),
            kube,
            target.namespace());
    this.workers = WorkerFactory.newInstance(client);
    var worker = workers.newWorker(queue);
    worker.registerWorkflowImplementationTypes(
        CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    worker.registerActivitiesImplementations(backend);
    workers.start();
  }

  // --- API requests per phase ---------------------------------------------------------------

  /**
   * One Axolotl SFT phase (a single Job) whose job runs 60 steps, one minute at a step a second,
   * and one whose job runs 3,600: the requests the worker makes for each, by verb and resource, as
   * the API server's audit log has them, after a first phase has let the worker's informers make
   * their first list and watch.
   */
  void apiRequests(ObjectNode result) {
    log.printf("API requests: single-Job phases on %s …%n", target.description());
    BenchCommand.awaitRun(client, run("warm-up", 10, MINUTES)); // the informers' first list/watch
    Measured minute = measure("minute", 60, MINUTES);
    Measured hour = measure("hour", 3_600, MINUTES);
    result.put("apiRequestsCountedBy", target.auditLog() == null ? "not counted" : "audit log");
    if (minute.requests() == null) {
      log.printf("  not counted: no audit log of the API server (--audit-log)%n");
      return;
    }
    result.put("apiRequestsPerPhaseShort", total(minute.requests()));
    result.put("apiRequestsPerPhaseLong", total(hour.requests()));
    putCounts(result.putObject("apiRequestsShortByVerb"), minute.requests());
    putCounts(result.putObject("apiRequestsLongByVerb"), hour.requests());
    result.put("apiReportsShort", minute.chain().completed("FollowJob"));
    result.put("apiReportsLong", hour.chain().completed("FollowJob"));
    log.printf(
        Locale.ROOT,
        "  1 minute: %d requests (%d progress reports); 60 minutes: %d requests (%d progress"
            + " reports), as the API server's audit log counts them%n",
        total(minute.requests()),
        minute.chain().completed("FollowJob"),
        total(hour.requests()),
        hour.chain().completed("FollowJob"));
    log.printf("  by verb and resource, for the 60-minute phase:%n");
    hour.requests().forEach((k, v) -> log.printf("    %-40s %d%n", k, v));
  }

  // --- the Kubernetes handoff ---------------------------------------------------------------

  /**
   * A curriculum of {@code phases} short single-Job phases: for each handoff, the previous Job's
   * {@code Complete} condition to the next phase's trainer pod {@code Running}, as a watch sees
   * them.
   */
  void handoffs(int phases, ObjectNode result) {
    log.printf("Kubernetes handoff: %d phases of 10 steps on %s …%n", phases, target.description());
    Map<String, Long> complete = new ConcurrentHashMap<>();
    Map<String, Long> running = new ConcurrentHashMap<>();
    String id = "bench-k8s-handoff-" + (++runs) + "-" + Long.toHexString(System.nanoTime());
    try (Watch jobs = watchJobsComplete(complete);
        Watch pods = watchPodsRunning(running)) {
      Recipe.Builder recipe =
          Recipe.builder("bench-k8s-handoff")
              .description("syllabus bench: handoffs between single-Job phases")
              .totalSteps(phases * 10L)
              .baseModel("Qwen/Qwen2.5-0.5B-Instruct");
      for (int i = 0; i < phases; i++) {
        recipe.phase(sft("p" + i, (i + 1.0) / phases));
      }
      BenchCommand.startRun(client, queue, id, new RunInput(recipe.build(), HANDOFFS, null));
      BenchCommand.requireCompleted(BenchCommand.awaitRun(client, id));
    }
    List<Double> millis = new ArrayList<>();
    for (int i = 1; i < phases; i++) {
      Long done = complete.get(Names.jobName(id, i - 1, "p" + (i - 1), 1));
      Long next = running.get(Names.jobName(id, i, "p" + i, 1));
      if (done != null && next != null) {
        millis.add((next - done) / 1e6);
      }
    }
    if (millis.isEmpty()) {
      throw new Exit.Failed("bench: no Kubernetes handoff was seen in run " + id);
    }
    millis.sort(null);
    ObjectNode out = result.putObject("kubernetesHandoff");
    out.put("handoffs", millis.size());
    putPercentiles(out, millis);
    log.printf(
        Locale.ROOT,
        "  %d handoffs: p50 %.1f ms, p99 %.1f ms, max %.1f ms (Job Complete → next trainer pod"
            + " Running)%n",
        millis.size(),
        BenchCommand.percentile(millis, 50),
        BenchCommand.percentile(millis, 99),
        millis.isEmpty() ? Double.NaN : millis.get(millis.size() - 1));
  }

  // --- pause latency -------------------------------------------------------------------------

  /**
   * One long phase paused and resumed {@code times} times: pause sent to the trainer's pod gone
   * (the scheduler then counts its GPUs free), as a watch sees it.
   */
  void pauses(int times, ObjectNode result) {
    log.printf(
        "pause latency: %d pauses of a training phase on %s …%n", times, target.description());
    String id = run("pause", 1_000_000, MINUTES);
    CurriculumWorkflow run = client.newWorkflowStub(CurriculumWorkflow.class, id);
    Map<String, Long> deleted = new ConcurrentHashMap<>();
    Map<String, Long> running = new ConcurrentHashMap<>();
    List<Double> millis = new ArrayList<>();
    try (Watch pods = watchPods(running, deleted)) {
      for (int i = 0; i < times; i++) {
        await("a trainer pod runs", () -> !livePods(running, deleted).isEmpty());
        String pod = livePods(running, deleted).get(0);
        long sent = System.nanoTime();
        run.pause("bench");
        await("the trainer pod is gone", () -> deleted.containsKey(pod));
        millis.add((deleted.get(pod) - sent) / 1e6);
        await(
            "the phase is paused", () -> run.status().phases().get(0).state() == PhaseState.PAUSED);
        run.resume("bench");
      }
    } finally {
      io.temporal.client.WorkflowStub.fromTyped(run).cancel();
    }
    millis.sort(null);
    ObjectNode out = result.putObject("pauseLatency");
    out.put("pauses", millis.size());
    putPercentiles(out, millis);
    log.printf(
        Locale.ROOT,
        "  %d pauses: p50 %.1f ms, p99 %.1f ms (pause sent → trainer pod gone, its GPUs free)%n",
        millis.size(),
        BenchCommand.percentile(millis, 50),
        BenchCommand.percentile(millis, 99));
  }

  private static List<String> livePods(Map<String, Long> running, Map<String, Long> deleted) {
    List<String> live = new ArrayList<>();
    running.keySet().stream().filter(p -> !deleted.containsKey(p)).forEach(live::add);
    return live;
  }

  // --- a week, compressed --------------------------------------------------------------------

  /**
   * One phase whose job trains for a week ({@code days} days in the quick run) at a step per 10
   * seconds, compressed to the cluster's step time: its history across continue-as-new, the
   * progress reports it made, and its API requests.
   */
  void week(int days, ObjectNode result) {
    int steps = days * 24 * 3600 / WEEK_SECONDS_PER_STEP;
    log.printf(
        "a phase following a job that trains for %d simulated day%s (%,d steps) …%n",
        days, days == 1 ? "" : "s", steps);
    Measured week = measure("week", steps, WEEK);
    HistoryChain chain = week.chain();
    ObjectNode out = result.putObject("simulatedWeek");
    out.put("simulatedDays", days);
    out.put("steps", steps);
    out.put("compressedBy", Math.round(WEEK_SECONDS_PER_STEP / target.secondsPerStep()));
    out.put("completed", week.end().state() == RunState.COMPLETED);
    out.put("wallSeconds", BenchCommand.round(week.seconds()));
    out.put("progressReports", chain.completed("FollowJob"));
    out.put("continuedAsNew", chain.continuedAsNew());
    out.put("maxHistoryEvents", chain.maxEvents());
    out.put("maxHistoryBytes", chain.maxBytes());
    out.put("firstRunInputBytes", chain.firstInputBytes());
    out.put("lastRunInputBytes", chain.lastInputBytes());
    if (week.requests() != null) {
      out.put("apiRequests", total(week.requests()));
    }
    log.printf(
        Locale.ROOT,
        "  %s in %.1f s: %,d progress reports; the phase continued as new %d times; its largest"
            + " history: %,d events, %,d bytes; input carried into its first run %,d bytes, into"
            + " its last %,d; %s API requests%n",
        week.end().state(),
        week.seconds(),
        chain.completed("FollowJob"),
        chain.continuedAsNew(),
        chain.maxEvents(),
        chain.maxBytes(),
        chain.firstInputBytes(),
        chain.lastInputBytes(),
        week.requests() == null ? "uncounted" : Integer.toString(total(week.requests())));
  }

  // --- helpers ------------------------------------------------------------------------------

  private record Measured(
      RunStatus end, double seconds, Map<String, Integer> requests, HistoryChain chain) {}

  private Measured measure(String name, int steps, RunSettings settings) {
    long auditFrom = auditSize();
    long started = System.nanoTime();
    String id = run(name, steps, settings);
    RunStatus end = BenchCommand.awaitRun(client, id);
    double seconds = (System.nanoTime() - started) / 1e9;
    BenchCommand.requireCompleted(end);
    Map<String, Integer> requests = requestsSince(auditFrom);
    return new Measured(end, seconds, requests, HistoryChain.of(client, id + ".0-sft"));
  }

  private long auditSize() {
    try {
      return target.auditLog() == null ? -1 : Files.size(target.auditLog());
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The worker's requests in the audit log since {@code offset}, by verb and resource. The API
   * server writes its audit log in batches, a second apart at most: wait for the last batch.
   */
  private Map<String, Integer> requestsSince(long offset) {
    if (offset < 0) {
      return null;
    }
    try {
      Thread.sleep(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Map<String, Integer> counts = new TreeMap<>();
    try (RandomAccessFile file = new RandomAccessFile(target.auditLog().toFile(), "r")) {
      file.seek(offset);
      String line;
      while ((line = file.readLine()) != null) {
        JsonNode event =
            JSON.readTree(
                new String(line.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
        if (!user.equals(event.path("user").path("username").asText())) {
          continue;
        }
        JsonNode ref = event.path("objectRef");
        String resource = ref.path("resource").asText(event.path("requestURI").asText());
        if (ref.has("subresource")) {
          resource += "/" + ref.get("subresource").asText();
        }
        counts.merge(event.path("verb").asText() + " " + resource, 1, Integer::sum);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the audit log " + target.auditLog(), e);
    }
    return counts;
  }

  private static int total(Map<String, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  private static Phase.Builder sft(String name, double until) {
    return Phase.builder(name)
        .until(until)
        .framework("axolotl", "sft")
        .image("ghcr.io/example/axolotl:0.9")
        .resources("train", new WorkloadResources(2, "8", "64Gi"))
        .data(DataSpec.of("org/sft-mix"))
        .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET));
  }

  /** Starts a run of one Axolotl SFT phase of {@code steps} steps; returns its id. */
  private String run(String name, int steps, RunSettings settings) {
    String id = "bench-k8s-" + name + "-" + (++runs) + "-" + Long.toHexString(System.nanoTime());
    Recipe recipe =
        Recipe.builder("bench-k8s-" + name)
            .description("syllabus bench: one Axolotl SFT phase on a cluster")
            .totalSteps(steps)
            .baseModel("Qwen/Qwen2.5-0.5B-Instruct")
            .phase(sft("sft", 1.0))
            .build();
    BenchCommand.startRun(client, queue, id, new RunInput(recipe, settings, null));
    return id;
  }

  /** When each Job was first seen {@code Complete}. */
  private Watch watchJobsComplete(Map<String, Long> complete) {
    return watch(
        kube.batch().v1().jobs().inNamespace(target.namespace()),
        (action, job, now) -> {
          if (job.getStatus() != null
              && job.getStatus().getConditions() != null
              && job.getStatus().getConditions().stream()
                  .anyMatch(c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus()))) {
            complete.putIfAbsent(job.getMetadata().getName(), now);
          }
        });
  }

  /** When each Job's first pod was first seen Running, by Job name. */
  private Watch watchPodsRunning(Map<String, Long> running) {
    return watch(
        kube.pods().inNamespace(target.namespace()),
        (action, pod, now) -> {
          String job = pod.getMetadata().getLabels().get("job-name");
          if (job != null && "Running".equals(pod.getStatus().getPhase())) {
            running.putIfAbsent(job, now);
          }
        });
  }

  /** When each pod was first seen Running, and when it was deleted, by pod name. */
  private Watch watchPods(Map<String, Long> running, Map<String, Long> deleted) {
    return watch(
        kube.pods().inNamespace(target.namespace()),
        (action, pod, now) -> {
          String name = pod.getMetadata().getName();
          if (action == Watcher.Action.DELETED) {
            deleted.putIfAbsent(name, now);
          } else if ("Running".equals(pod.getStatus().getPhase())
              && pod.getMetadata().getDeletionTimestamp() == null) {
            running.putIfAbsent(name, now);
          }
        });
  }

  /** What a watch does with each event, given the moment it arrived ({@link System#nanoTime}). */
  private interface Seen<T> {
    void event(Watcher.Action action, T object, long nanos);
  }

  private static <T> Watch watch(Watchable<T> objects, Seen<T> seen) {
    return objects.watch(
        new Watcher<T>() {
          @Override
          public void eventReceived(Action action, T object) {
            seen.event(action, object, System.nanoTime());
          }

          @Override
          public void onClose(WatcherException cause) {}
        });
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("bench: timed out after 5 minutes waiting until " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static void putPercentiles(ObjectNode out, List<Double> sorted) {
    out.put("p50Ms", BenchCommand.round(BenchCommand.percentile(sorted, 50)));
    out.put("p99Ms", BenchCommand.round(BenchCommand.percentile(sorted, 99)));
    out.put("maxMs", sorted.isEmpty() ? 0 : BenchCommand.round(sorted.get(sorted.size() - 1)));
  }

  private static void putCounts(ObjectNode node, Map<String, Integer> counts) {
    counts.forEach(node::put);
  }

  @Override
  public void close() {
    workers.shutdown();
    workers.awaitTermination(10, TimeUnit.SECONDS);
    backend.close();
    kube.close();
  }
}
