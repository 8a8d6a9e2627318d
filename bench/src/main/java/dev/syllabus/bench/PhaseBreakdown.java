package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.mean;
import static dev.syllabus.bench.Statistics.round;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a phase's time goes: for the middle phases of the handoff run, from their histories, the
 * mean time from each activity's scheduling to its completion, by activity type, and of the phase
 * workflow as a whole. This is what the overhead ratio is made of.
 */
final class PhaseBreakdown {
  private PhaseBreakdown() {}

  /** Measures it for up to 20 of the {@code phases} phases of run {@code runId}. */
  static void measure(
      WorkflowClient client, PrintWriter log, String runId, int phases, ObjectNode result) {
    Map<String, List<Double>> byType = new TreeMap<>();
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
}
