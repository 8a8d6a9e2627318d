package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.percentile;
import static dev.syllabus.bench.Statistics.round;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.job.JobRef;
import io.temporal.client.WorkflowOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Handoff latency and overhead, on the {@code local} backend: a curriculum of no-op phases, each
 * handoff timed from the moment one phase's job process exited (the mtime of the {@code exit} file
 * its wrapper writes) to the moment the next one's was started (the first line of its log); then
 * the curriculum's wall time against a {@link BareWorkflow} of as many no-op activities.
 */
final class HandoffsAndOverhead {
  private HandoffsAndOverhead() {}

  /**
   * Measures both; returns the id of the curriculum run, whose histories the phase breakdown reads.
   *
   * @param runsFolder where the local backend keeps the runs' folders (the jobs' logs among them)
   */
  static String measure(Runs runs, Path runsFolder, PrintWriter log, int phases, ObjectNode result)
      throws IOException {
    NoopRun handoff = NoopRun.run(runs, log, "handoff", phases);
    Runs.requireCompleted(handoff.end());
    String id = handoff.id();
    double curriculumSeconds = handoff.seconds();

    List<Double> millis = new ArrayList<>();
    for (int i = 0; i + 1 < phases; i++) {
      Path exit = jobDir(runsFolder, id, i).resolve("exit");
      Instant exited = Files.getLastModifiedTime(exit).toInstant();
      Instant next = startedAt(jobDir(runsFolder, id, i + 1));
      millis.add(Duration.between(exited, next).toNanos() / 1e6);
    }
    millis.sort(Comparator.naturalOrder());
    result.put("handoffs", millis.size());
    result.put("handoffP50Ms", round(percentile(millis, 50)));
    result.put("handoffP95Ms", round(percentile(millis, 95)));
    result.put("handoffP99Ms", round(percentile(millis, 99)));
    result.put("handoffMaxMs", round(millis.get(millis.size() - 1)));
    log.printf(
        Locale.ROOT,
        "  %d handoffs (job exit → next job started): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        millis.size(),
        percentile(millis, 50),
        percentile(millis, 95),
        percentile(millis, 99),
        millis.get(millis.size() - 1));

    log.printf("overhead: a bare workflow of %d no-op activities …%n", phases);
    long started = System.nanoTime();
    BareWorkflow bare =
        runs.client()
            .newWorkflowStub(
                BareWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue(runs.queue())
                    .setWorkflowId("bench-bare-" + Runs.shortId())
                    .build());
    bare.run(phases);
    double bareSeconds = (System.nanoTime() - started) / 1e9;
    result.put("curriculumSeconds", round(curriculumSeconds));
    result.put("bareSeconds", round(bareSeconds));
    result.put("overheadRatio", round(curriculumSeconds / bareSeconds));
    log.printf(
        Locale.ROOT,
        "  %d phases in %.2f s against %d bare activities in %.2f s: ratio %.2f%n",
        phases,
        curriculumSeconds,
        phases,
        bareSeconds,
        curriculumSeconds / bareSeconds);
    return id;
  }

  /** Where the local backend ran phase {@code index}'s job: its log and exit file. */
  private static Path jobDir(Path runsFolder, String runId, int index) {
    String phase = "p" + index;
    return runsFolder
        .resolve(runId)
        .resolve(index + "-" + phase)
        .resolve("jobs")
        .resolve(JobRef.of(runId, index, phase, 1).name());
  }

  /** When the local backend started a job: the instant its log's first line gives. */
  private static Instant startedAt(Path jobDir) throws IOException {
    try (Stream<String> lines = Files.lines(jobDir.resolve("output.log"))) {
      String first =
          lines
              .filter(l -> l.startsWith("syllabus: starting "))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no start line in " + jobDir));
      return Instant.parse(first.substring(first.lastIndexOf(" at ") + 4).trim());
    }
  }
}
