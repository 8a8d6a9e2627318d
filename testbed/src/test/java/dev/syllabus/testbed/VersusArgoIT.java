package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus bench --versus-argo --quick --json}, the packaged command, runs the same chain on
 * Argo Workflows (its controller built by {@code testbed/argo/build}, at the default requeue time
 * and at 1 s) and on Syllabus, side by side on a testbed of its own, and its watcher sees every
 * step's pod of each. Skipped when Argo's controller is not built: it is built only on demand, not
 * by CI. Not a benchmark: the numbers are for docs/benchmarks.md, never an assertion here.
 */
class VersusArgoIT {
  @TempDir Path home;

  @Test
  @Timeout(900)
  void bothEnginesRunTheWholeChainAndTheWatcherTimesEveryStep() throws Exception {
    if (!BenchJar.built("testbed/build")) {
      Assumptions.abort("the testbed is not built (testbed/build)");
    }
    if (!BenchJar.built("testbed/argo/build")) {
      Assumptions.abort(
          "Argo's controller is not built (testbed/argo/build, about 4 minutes the first time)");
    }
    JsonNode versus =
        BenchJar.run(home, Duration.ofMinutes(14), "--versus-argo", "--quick", "--json")
            .path("versusArgo");
    int steps = versus.path("steps").asInt();
    assertEquals(3, steps, versus.toString());
    JsonNode engines = versus.path("engines");
    assertEquals(3, engines.size(), "Syllabus and Argo at two requeue times: " + versus);
    for (JsonNode engine : engines) {
      assertEquals(steps, engine.path("pods").asInt(), engine.toString());
      assertEquals(steps - 1, engine.path("gaps").asInt(), engine.toString());
      for (String field : List.of("gapP50Ms", "gapP99Ms", "overheadSeconds", "wallSeconds")) {
        assertTrue(engine.path(field).isNumber(), field + " in " + engine);
      }
      // Each pod ran its step: created → Succeeded is at least the step's own time.
      assertTrue(
          engine.path("podSecondsP50").asDouble() >= versus.path("stepSeconds").asDouble(),
          engine.toString());
    }
    assertEquals(2, versus.path("ratios").size(), versus.toString());
  }
}
