package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.round;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.RunState;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
import java.util.Locale;

/**
 * Many runs on one worker: runs of 3 no-op phases started at once; how many complete, the wall
 * time, phases per second, and the peak heap of this JVM (the worker's, and the embedded server's
 * when bench runs one).
 */
final class Scale {
  private Scale() {}

  /**
   * Starts {@code count} runs and waits for them all.
   *
   * @param embeddedServer whether the Temporal server runs in this JVM too, for the report
   */
  static void measure(
      Runs runs, PrintWriter log, int count, boolean embeddedServer, ObjectNode result) {
    log.printf("scale: %d runs of 3 no-op phases started at once …%n", count);
    System.gc();
    List<MemoryPoolMXBean> heap =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .toList();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    String prefix = "bench-scale-" + Runs.shortId() + "-";
    Recipe recipe = NoopRun.recipe("scale", 3);
    long started = System.nanoTime();
    for (int i = 0; i < count; i++) {
      runs.start(prefix + i, RunInput.of(recipe));
    }
    int completed = 0;
    for (int i = 0; i < count; i++) {
      if (runs.await(prefix + i).state() == RunState.COMPLETED) {
        completed++;
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    result.put("scaleRuns", count);
    result.put("scaleCompleted", completed);
    result.put("scaleWallSeconds", round(seconds));
    result.put("scalePhasesPerSecond", round(3.0 * completed / seconds));
    result.put("peakHeapMb", round(peak / 1048576.0));
    log.printf(
        Locale.ROOT,
        "  %d of %d completed in %.1f s: %.1f phases/s; peak heap %.0f MB (this JVM: worker%s)%n",
        completed,
        count,
        seconds,
        3.0 * completed / seconds,
        peak / 1048576.0,
        embeddedServer ? " and the embedded server" : "");
  }
}
