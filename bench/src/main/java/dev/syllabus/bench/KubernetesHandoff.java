package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.percentile;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.starter.Exit;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Recipe;
import io.fabric8.kubernetes.client.Watch;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Kubernetes handoff: a curriculum of short single-Job phases; for each handoff, the previous
 * phase's trainer pod {@code Succeeded} to the next phase's trainer pod {@code Running}, as a watch
 * sees them.
 */
final class KubernetesHandoff {
  /** Phases whose handoffs are timed; reports at the run's usual period. */
  private static final RunSettings HANDOFFS = new RunSettings(2_000, 0);

  private KubernetesHandoff() {}

  /** Runs a curriculum of {@code phases} phases of 10 steps and times its handoffs. */
  static void measure(ClusterBench cluster, int phases, ObjectNode result) {
    PrintWriter log = cluster.log();
    log.printf(
        "Kubernetes handoff: %d phases of 10 steps on %s …%n",
        phases, cluster.target().description());
    Map<String, Long> ended = new ConcurrentHashMap<>();
    Map<String, Long> running = new ConcurrentHashMap<>();
    String id = cluster.newRunId("handoff");
    ClusterObserver observer = cluster.observer();
    try (Watch pods = observer.podsRunningAndEnded(running, ended)) {
      Recipe.Builder recipe =
          Recipe.builder("bench-k8s-handoff")
              .description("syllabus bench: handoffs between single-Job phases")
              .totalSteps(phases * 10L)
              .baseModel("Qwen/Qwen2.5-0.5B-Instruct");
      for (int i = 0; i < phases; i++) {
        recipe.phase(ClusterBench.sft("p" + i, (i + 1.0) / phases));
      }
      cluster.runs().start(id, new RunInput(recipe.build(), HANDOFFS, null));
      Runs.requireCompleted(cluster.runs().await(id));
    }
    List<Double> millis = new ArrayList<>();
    for (int i = 1; i < phases; i++) {
      Long done = ended.get(Names.jobName(id, i - 1, "p" + (i - 1), 1));
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
    Statistics.putPercentiles(out, millis);
    log.printf(
        Locale.ROOT,
        "  %d handoffs: p50 %.1f ms, p99 %.1f ms, max %.1f ms (trainer pod Succeeded → next"
            + " trainer pod Running)%n",
        millis.size(),
        percentile(millis, 50),
        percentile(millis, 99),
        millis.get(millis.size() - 1));
  }
}
