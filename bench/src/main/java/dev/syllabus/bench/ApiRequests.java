package dev.syllabus.bench;

import static dev.syllabus.bench.AuditLog.total;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The API requests of a phase: one Axolotl SFT phase (a single Job) whose job runs 60 steps, one
 * minute at a step a second, and one whose job runs 3,600: the requests the worker makes for each,
 * by verb and resource, as the API server's audit log has them, after a first phase has let the
 * worker's informers make their first list and watch.
 */
final class ApiRequests {
  private ApiRequests() {}

  static void measure(ClusterBench cluster, ObjectNode result) {
    PrintWriter log = cluster.log();
    ClusterTarget target = cluster.target();
    log.printf("API requests: single-Job phases on %s …%n", target.description());
    cluster
        .runs()
        .await(cluster.run("warm-up", 10, ClusterBench.MINUTES)); // the informers' first list/watch
    ClusterBench.Measured minute = cluster.measure("minute", 60, ClusterBench.MINUTES);
    ClusterBench.Measured hour = cluster.measure("hour", 3_600, ClusterBench.MINUTES);
    result.put("apiRequestsCountedBy", target.auditLog() == null ? "not counted" : "audit log");
    if (minute.requests() == null) {
      log.printf("  not counted: no audit log of the API server (--audit-log)%n");
      return;
    }
    result.put("apiRequestsPerPhaseShort", total(minute.requests()));
    result.put("apiRequestsPerPhaseLong", total(hour.requests()));
    ObjectNode shortByVerb = result.putObject("apiRequestsShortByVerb");
    minute.requests().forEach(shortByVerb::put);
    ObjectNode longByVerb = result.putObject("apiRequestsLongByVerb");
    hour.requests().forEach(longByVerb::put);
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
}
