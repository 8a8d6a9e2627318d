package dev.syllabus.bench;

import static dev.syllabus.bench.AuditLog.total;
import static dev.syllabus.bench.Statistics.round;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.PhaseWorkflow;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.client.Watch;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Many phases at once on one worker: {@code phases} runs of one Axolotl SFT phase each (1 GPU),
 * started together; once every phase's pod runs, they are held for {@code holdSeconds} while their
 * trainers print steps and losses, and every run's status is read over and over to check that each
 * phase's progress reaches its run; then each job runs to its end and every run must complete.
 * Measures the worker's heap, its API requests per second while the phases run (from the API
 * server's audit log), its activity slots, and says what, if anything, capped it.
 */
final class ConcurrentPhases {
  /** Progress reaches the run as it does by default: a report every 2 seconds. */
  private static final RunSettings SETTINGS = RunSettings.DEFAULTS;

  private ConcurrentPhases() {}

  /** A phase of the {@code axolotl} framework's {@code sft} job on 1 GPU, 2 CPUs, 16 GiB. */
  static Phase.Builder onOneGpu() {
    return Phase.builder("sft")
        .until(1.0)
        .framework("axolotl", "sft")
        .image("ghcr.io/example/axolotl:0.9")
        .resources("train", new WorkloadResources(1, "2", "16Gi"))
        .data(DataSpec.of("org/sft-mix"))
        .optimizer(new OptimizerSpec("adamw_torch", 2e-5, OptimizerState.RESET));
  }

  /**
   * How long the pods may take to all run: 40 seconds, or 1.5 s a phase when there are more than 26
   * (on 2 shared cores, 500 runs' pods came up at about one a second: the runs' starts, their
   * launch activities, the Job controller's and the scheduler's request rates, the trainers' own
   * start).
   */
  static int startAllowanceSeconds(int phases) {
    return Math.max(40, (int) Math.ceil(1.5 * phases));
  }

  /**
   * The steps each job trains: enough to run through the start allowance and the hold, at the
   * cluster's step time.
   */
  static int steps(int phases, int holdSeconds, double secondsPerStep) {
    return (int) Math.ceil((startAllowanceSeconds(phases) + holdSeconds) / secondsPerStep);
  }

  /**
   * How many times the hold reads every status: up to 4, at least {@value #MIN_SAMPLE_SECONDS} s
   * apart, since a trainer prints a whole line (a log dict) only every 10 steps (tqdm redraws its
   * bar with carriage returns, which end no line), and a run hears of its phase at each tenth of
   * its steps.
   */
  static int samples(int holdSeconds) {
    return Math.max(1, Math.min(4, holdSeconds / MIN_SAMPLE_SECONDS));
  }

  private static final int MIN_SAMPLE_SECONDS = 20;

  static void measure(
      ClusterBench cluster,
      ActivitySlots slots,
      int activitySlots,
      int phases,
      int holdSeconds,
      ObjectNode result) {
    PrintWriter log = cluster.log();
    ObjectNode out = result.putObject("concurrentPhases");
    int steps = steps(phases, holdSeconds, cluster.target().secondsPerStep());
    out.put("phases", phases);
    out.put("holdSecondsAsked", holdSeconds);
    out.put("stepsPerPhase", steps);
    out.put("secondsPerStep", cluster.target().secondsPerStep());
    out.put("activitySlots", activitySlots);
    log.printf(
        Locale.ROOT,
        "concurrent phases: %d runs of one phase (%d steps at %.2f s a step) on %s, held %d s once"
            + " every pod runs …%n",
        phases,
        steps,
        cluster.target().secondsPerStep(),
        cluster.target().description(),
        holdSeconds);
    System.gc();
    Map<String, Long> running = new ConcurrentHashMap<>();
    Map<String, Long> ended = new ConcurrentHashMap<>();
    List<String> ids = new ArrayList<>();
    ExecutorService queries = Executors.newFixedThreadPool(8);
    try (HeapSampler heap = new HeapSampler();
        Watch pods = cluster.observer().podsRunningAndEnded(running, ended)) {
      AuditLog audit = cluster.auditLog();
      long auditFromStart = audit.end();
      long started = System.nanoTime();
      for (int i = 0; i < phases; i++) {
        ids.add(cluster.run("concurrent", steps, SETTINGS, onOneGpu()));
      }
      double startSeconds = (System.nanoTime() - started) / 1e9;
      log.printf(Locale.ROOT, "  %d runs started in %.1f s%n", phases, startSeconds);

      // Every pod running at once.
      long waitUntil = System.nanoTime() + (startAllowanceSeconds(phases) + 600L) * 1_000_000_000L;
      int maxAtOnce = 0;
      while (System.nanoTime() < waitUntil) {
        maxAtOnce = Math.max(maxAtOnce, running.size() - ended.size());
        if (running.size() >= phases || !ended.isEmpty()) {
          break;
        }
        sleep(1_000);
      }
      long holdStart = System.nanoTime();
      boolean allRunning = running.size() >= phases && ended.isEmpty();
      double rampSeconds = (holdStart - started) / 1e9;
      out.put("startSeconds", round(startSeconds));
      out.put("allPodsRunning", allRunning);
      out.put("secondsUntilAllRunning", round(rampSeconds));
      log.printf(
          Locale.ROOT,
          "  %s after %.1f s%n",
          allRunning
              ? "every pod runs"
              : String.format("only %d of %d pods ran at once", maxAtOnce, phases),
          rampSeconds);

      // The hold: progress must reach every phase and every run, sample after sample.
      slots.reset();
      long auditFromHold = audit.end();
      int samples = samples(holdSeconds);
      long sampleEvery = holdSeconds * 1_000_000_000L / samples;
      Sampled phaseSteps = new Sampled(samples, ids.size());
      Sampled runSteps = new Sampled(samples, ids.size());
      Map<String, PhaseStatus> phasesBefore = phaseStatuses(cluster, ids, queries);
      Map<String, RunStatus> runsBefore = runStatuses(cluster, ids, queries);
      int withLoss = 0;
      long holdEnd = holdStart;
      for (int s = 0; s < samples; s++) {
        long at = holdStart + (s + 1) * sampleEvery;
        while (System.nanoTime() < at && ended.isEmpty()) {
          sleep(500);
        }
        if (!ended.isEmpty()) {
          break; // a job ended: the hold is over
        }
        Map<String, PhaseStatus> phasesNow = phaseStatuses(cluster, ids, queries);
        Map<String, RunStatus> runsNow = runStatuses(cluster, ids, queries);
        holdEnd = System.nanoTime();
        withLoss = 0;
        for (int i = 0; i < ids.size(); i++) {
          String id = ids.get(i);
          PhaseStatus phaseWas = phasesBefore.get(id);
          PhaseStatus phaseIs = phasesNow.get(id);
          phaseSteps.note(
              s, i, phaseWas != null && phaseIs != null && phaseIs.step() > phaseWas.step());
          RunStatus runWas = runsBefore.get(id);
          RunStatus runIs = runsNow.get(id);
          runSteps.note(s, i, runWas != null && runIs != null && runIs.step() > runWas.step());
          if (phaseIs != null && phaseIs.loss() != null) {
            withLoss++;
          }
        }
        log.printf(
            "  hold sample %d: progress beyond the previous sample in %d of %d phases (their"
                + " status), %d of %d runs (theirs, which hears a phase at each tenth of its"
                + " steps)%n",
            s + 1, phaseSteps.perSample()[s], phases, runSteps.perSample()[s], phases);
        phasesBefore = phasesNow;
        runsBefore = runsNow;
      }
      int advancedEverySample = phaseSteps.inEverySample();
      out.set("phasesAdvancedPerSample", phaseSteps.perSampleJson(out));
      out.put("phasesAdvancedInEverySample", advancedEverySample);
      out.put("phasesShowingLoss", withLoss);
      out.set("runsAdvancedPerSample", runSteps.perSampleJson(out));
      out.put("runsAdvancedInEverySample", runSteps.inEverySample());
      out.put("runsAdvancedInSomeSample", runSteps.inSomeSample());
      double heldSeconds = (holdEnd - holdStart) / 1e9;
      Map<String, Integer> holdRequests = audit.requestsSince(auditFromHold);
      List<Double> waits = slots.followWaitsMs();
      int peakSlots = slots.peak();
      out.put("heldSeconds", round(heldSeconds));
      out.put("peakActivitiesRunning", peakSlots);
      ObjectNode followWait = out.putObject("followWaitForSlot");
      if (!waits.isEmpty()) {
        Statistics.putPercentiles(followWait, waits);
      }
      followWait.put("follows", waits.size());
      if (holdRequests != null && heldSeconds > 0) {
        out.put("apiRequestsPerSecond", round(total(holdRequests) / heldSeconds));
        ObjectNode byVerb = out.putObject("apiRequestsPerSecondByVerb");
        holdRequests.forEach((k, v) -> byVerb.put(k, round(v / heldSeconds)));
      }

      // Every job to its end; every run must complete with all its steps.
      int completed = 0;
      int allSteps = 0;
      for (String id : ids) {
        RunStatus end = cluster.runs().await(id);
        if (end.state() == RunState.COMPLETED) {
          completed++;
        }
        if (end.step() == end.totalSteps()) {
          allSteps++;
        }
      }
      double wallSeconds = (System.nanoTime() - started) / 1e9;
      Map<String, Integer> allRequests = audit.requestsSince(auditFromStart);
      out.put("completed", completed);
      out.put("completedWithEveryStep", allSteps);
      out.put("wallSeconds", round(wallSeconds));
      if (allRequests != null) {
        out.put("apiRequestsWholeRun", total(allRequests));
        ObjectNode byVerb = out.putObject("apiRequestsWholeRunByVerb");
        allRequests.forEach(byVerb::put);
      }
      out.put("peakHeapUsedMb", round(heap.peakUsedMb()));
      out.put("peakHeapAfterGcMb", round(heap.peakAfterCollectionMb()));
      out.put("maxHeapMb", round(HeapSampler.maxMb()));
      out.put("peakResidentMb", round(heap.peakResidentMb()));
      out.put("peakThreads", HeapSampler.peakThreads());
      ArrayNode capped = out.putArray("capped");
      capsSeen(
              allRunning,
              maxAtOnce,
              phases,
              peakSlots,
              activitySlots,
              waits,
              advancedEverySample,
              heldSeconds,
              holdSeconds)
          .forEach(capped::add);

      log.printf(
          Locale.ROOT,
          "  held %.0f s: %d of %d phases showed progress in every sample; peak %d activities at"
              + " once of %d slots; a follow waited for a slot p99 %.0f ms%n",
          heldSeconds,
          advancedEverySample,
          phases,
          peakSlots,
          activitySlots,
          waits.isEmpty() ? 0 : Statistics.percentile(waits, 99));
      if (holdRequests != null) {
        log.printf(
            Locale.ROOT,
            "  API requests during the hold: %.1f/s, by verb and resource:%n",
            total(holdRequests) / Math.max(heldSeconds, 1e-9));
        holdRequests.forEach(
            (k, v) -> log.printf(Locale.ROOT, "    %-40s %.2f/s%n", k, v / heldSeconds));
      }
      log.printf(
          Locale.ROOT,
          "  %d of %d runs completed (%d with every step) in %.0f s; peak heap %.0f MB used, %.0f"
              + " MB after a collection, of %.0f MB%n",
          completed,
          phases,
          allSteps,
          wallSeconds,
          heap.peakUsedMb(),
          heap.peakAfterCollectionMb(),
          HeapSampler.maxMb());
      log.printf("  capped by: %s%n", capped.isEmpty() ? "nothing seen" : capped.toString());
    } finally {
      queries.shutdownNow();
    }
  }

  /** What the numbers say held the phases back, in words; empty when nothing did. */
  static List<String> capsSeen(
      boolean allRunning,
      int maxAtOnce,
      int phases,
      int peakActivities,
      int activitySlots,
      List<Double> followWaitsMs,
      int advancedEverySample,
      double heldSeconds,
      int holdSeconds) {
    List<String> caps = new ArrayList<>();
    if (!allRunning) {
      caps.add("only " + maxAtOnce + " of " + phases + " pods ran at once");
    }
    if (peakActivities >= activitySlots) {
      caps.add("every activity slot was taken (" + activitySlots + ")");
    }
    if (!followWaitsMs.isEmpty() && Statistics.percentile(followWaitsMs, 99) > 5_000) {
      caps.add(
          String.format(
              Locale.ROOT,
              "follow activities waited for a slot (p99 %.1f s)",
              Statistics.percentile(followWaitsMs, 99) / 1000));
    }
    if (advancedEverySample < phases) {
      caps.add((phases - advancedEverySample) + " phases showed no progress in some sample");
    }
    if (heldSeconds < holdSeconds * 0.95) {
      caps.add(
          String.format(
              Locale.ROOT,
              "held %.0f s of %d: a job ended before the hold",
              heldSeconds,
              holdSeconds));
    }
    return caps;
  }

  /** Which of the runs made progress in each sample, counted per sample and per run. */
  private static final class Sampled {
    private final int[] perSample;
    private final int[] perRun;

    /** The samples taken: fewer than planned when a job ended before the hold did. */
    private int taken;

    Sampled(int samples, int runs) {
      perSample = new int[samples];
      perRun = new int[runs];
    }

    void note(int sample, int run, boolean advanced) {
      taken = Math.max(taken, sample + 1);
      if (advanced) {
        perSample[sample]++;
        perRun[run]++;
      }
    }

    int[] perSample() {
      return perSample;
    }

    /** The count of runs that advanced, for each sample taken. */
    ArrayNode perSampleJson(ObjectNode factoryOf) {
      ArrayNode array = factoryOf.arrayNode();
      for (int s = 0; s < taken; s++) {
        array.add(perSample[s]);
      }
      return array;
    }

    int inEverySample() {
      return (int) java.util.Arrays.stream(perRun).filter(c -> c == taken).count();
    }

    int inSomeSample() {
      return (int) java.util.Arrays.stream(perRun).filter(c -> c > 0).count();
    }
  }

  /** Every run's status, as its query answers (missing when the query failed). */
  private static Map<String, RunStatus> runStatuses(
      ClusterBench cluster, List<String> ids, ExecutorService queries) {
    return ask(
        ids,
        queries,
        id -> cluster.client().newWorkflowStub(CurriculumWorkflow.class, id).status());
  }

  /** Every run's phase's status, as the phase workflow's query answers. */
  private static Map<String, PhaseStatus> phaseStatuses(
      ClusterBench cluster, List<String> ids, ExecutorService queries) {
    return ask(
        ids,
        queries,
        id -> cluster.client().newWorkflowStub(PhaseWorkflow.class, id + ".0-sft").status());
  }

  private static <T> Map<String, T> ask(
      List<String> ids, ExecutorService queries, java.util.function.Function<String, T> query) {
    Map<String, Future<T>> asked = new java.util.LinkedHashMap<>();
    for (String id : ids) {
      asked.put(id, queries.submit(() -> query.apply(id)));
    }
    Map<String, T> answers = new java.util.HashMap<>();
    asked.forEach(
        (id, answer) -> {
          try {
            answers.put(id, answer.get());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } catch (java.util.concurrent.ExecutionException e) {
            // no answer: counts as no progress
          }
        });
    return answers;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
