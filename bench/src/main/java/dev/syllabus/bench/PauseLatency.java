package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.percentile;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.status.PhaseState;
import io.fabric8.kubernetes.client.Watch;
import io.temporal.client.WorkflowStub;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Pause latency: one long training phase paused and resumed again and again; each time, from {@code
 * pause} sent to the moment a watch sees the trainer's pod gone (the scheduler then counts its GPUs
 * free).
 */
final class PauseLatency {
  private PauseLatency() {}

  /** Pauses and resumes a training phase {@code times} times. */
  static void measure(ClusterBench cluster, int times, ObjectNode result) {
    PrintWriter log = cluster.log();
    log.printf(
        "pause latency: %d pauses of a training phase on %s …%n",
        times, cluster.target().description());
    String id = cluster.run("pause", 1_000_000, ClusterBench.MINUTES);
    CurriculumWorkflow run = cluster.client().newWorkflowStub(CurriculumWorkflow.class, id);
    Map<String, Long> deleted = new ConcurrentHashMap<>();
    Map<String, Long> running = new ConcurrentHashMap<>();
    List<Double> millis = new ArrayList<>();
    try (Watch pods = cluster.observer().podsRunningAndDeleted(running, deleted)) {
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
      WorkflowStub.fromTyped(run).cancel();
    }
    millis.sort(null);
    ObjectNode out = result.putObject("pauseLatency");
    out.put("pauses", millis.size());
    Statistics.putPercentiles(out, millis);
    log.printf(
        Locale.ROOT,
        "  %d pauses: p50 %.1f ms, p99 %.1f ms (pause sent → trainer pod gone, its GPUs free)%n",
        millis.size(),
        percentile(millis, 50),
        percentile(millis, 99));
  }

  private static List<String> livePods(Map<String, Long> running, Map<String, Long> deleted) {
    List<String> live = new ArrayList<>();
    running.keySet().stream().filter(p -> !deleted.containsKey(p)).forEach(live::add);
    return live;
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
}
