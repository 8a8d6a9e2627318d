package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
  private static final Path JAR = Testbed.REPO.resolve("bench/target/syllabus-bench.jar");

  @TempDir Path home;

  @Test
  @Timeout(900)
  void bothEnginesRunTheWholeChainAndTheWatcherTimesEveryStep() throws Exception {
    if (!built("testbed/build")) {
      Assumptions.abort("the testbed is not built (testbed/build)");
    }
    if (!built("testbed/argo/build")) {
      Assumptions.abort(
          "Argo's controller is not built (testbed/argo/build, about 4 minutes the first time)");
    }
    ProcessBuilder builder =
        new ProcessBuilder("java", "-jar", JAR.toString(), "--versus-argo", "--quick", "--json")
            .directory(Testbed.REPO.toFile())
            .redirectError(home.resolve("bench.err").toFile());
    builder.environment().put("SYLLABUS_HOME", home.toString());
    Process bench = builder.start();
    String out = new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(bench.waitFor(14, TimeUnit.MINUTES), "bench did not end");
    String err = Files.readString(home.resolve("bench.err"));
    assertEquals(0, bench.exitValue(), out + err);

    JsonNode versus = new ObjectMapper().readTree(out).path("versusArgo");
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

  private static boolean built(String script) throws Exception {
    return new ProcessBuilder(Testbed.REPO.resolve(script).toString(), "--check")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
            .waitFor()
        == 0;
  }
}
