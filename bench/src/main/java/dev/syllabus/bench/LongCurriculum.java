package dev.syllabus.bench;

import static dev.syllabus.bench.Statistics.round;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A long curriculum's history: a run of many no-op phases; whether it completes, how often it
 * continued as new, its largest history (events, bytes, and where the bytes are), and the size of
 * the state carried into its first and last run.
 */
final class LongCurriculum {
  private LongCurriculum() {}

  /** Runs a curriculum of {@code phases} no-op phases and reads its histories. */
  static void measure(Runs runs, PrintWriter log, int phases, ObjectNode result) {
    NoopRun curriculum = NoopRun.run(runs, log, "long", phases);
    String id = curriculum.id();
    RunStatus end = curriculum.end();
    double seconds = curriculum.seconds();
    HistoryChain chain = HistoryChain.of(runs.client(), id);
    result.put("longPhases", phases);
    result.put("longCompleted", end.state() == RunState.COMPLETED);
    result.put("longSeconds", round(seconds));
    result.put("longContinuedAsNew", chain.continuedAsNew());
    result.put("longMaxHistoryEvents", chain.maxEvents());
    result.put("longMaxHistoryBytes", chain.maxBytes());
    ObjectNode parts = result.putObject("longMaxHistoryBytesByEventType");
    chain.maxBytesByType().forEach(parts::put);
    result.put("longFirstRunInputBytes", chain.firstInputBytes());
    result.put("longLastRunInputBytes", chain.lastInputBytes());
    log.printf(
        Locale.ROOT,
        "  %s in %.1f s; the run continued as new %d times; its largest history: %,d events, %,d"
            + " bytes (%s); input carried into its first run %,d bytes, into its last %,d%n",
        end.state(),
        seconds,
        chain.continuedAsNew(),
        chain.maxEvents(),
        chain.maxBytes(),
        chain.largestParts(),
        chain.firstInputBytes(),
        chain.lastInputBytes());
  }
}
