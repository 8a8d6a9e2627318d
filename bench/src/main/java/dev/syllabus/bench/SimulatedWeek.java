package dev.syllabus.bench;

import static dev.syllabus.bench.AuditLog.total;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.status.RunState;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A week, compressed: one phase whose job trains for a week at a step per 10 simulated seconds,
 * compressed to the cluster's step time; its history across continue-as-new, the progress reports
 * it made, and its API requests.
 */
final class SimulatedWeek {
  /** The week: a step is 10 simulated seconds (60,480 steps); reports as often as possible. */
  private static final int WEEK_SECONDS_PER_STEP = 10;

  private static final RunSettings WEEK =
      new RunSettings(1, RunSettings.DEFAULTS.maxHistoryEvents());

  private SimulatedWeek() {}

  /** Follows a job that trains for {@code days} simulated days (a week, or 1 in the quick run). */
  static void measure(ClusterBench cluster, int days, ObjectNode result) {
    PrintWriter log = cluster.log();
    int steps = days * 24 * 3600 / WEEK_SECONDS_PER_STEP;
    log.printf(
        "a phase following a job that trains for %d simulated day%s (%,d steps) …%n",
        days, days == 1 ? "" : "s", steps);
    ClusterBench.Measured week = cluster.measure("week", steps, WEEK);
    HistoryChain chain = week.chain();
    ObjectNode out = result.putObject("simulatedWeek");
    out.put("simulatedDays", days);
    out.put("steps", steps);
    out.put("compressedBy", Math.round(WEEK_SECONDS_PER_STEP / cluster.target().secondsPerStep()));
    out.put("completed", week.end().state() == RunState.COMPLETED);
    out.put("wallSeconds", Statistics.round(week.seconds()));
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
            + " history: %,d events, %,d bytes; input carried into its first run %,d bytes,"
            + " into its last %,d; %s API requests%n",
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
}
