package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --quick --json} runs and prints one JSON object with every number it promises. Not a
 * benchmark: what the numbers are is for docs/benchmarks.md, never an assertion here.
 */
class BenchCommandTest {
  @TempDir Path home;

  @Test
  @Timeout(300)
  void quickBenchPrintsOneJsonObjectWithEveryNumber() throws Exception {
    // The Kubernetes numbers need the testbed: testbed/src/test/java/…/BenchIT measures them.
    Cli.Result bench = new Cli(home).run("bench", "--quick", "--json", "--no-kubernetes");

    assertEquals(0, bench.exitCode(), bench.err());
    JsonNode result = new ObjectMapper().readTree(bench.out());
    for (String field :
        List.of(
            "handoffP50Ms",
            "handoffP95Ms",
            "handoffP99Ms",
            "overheadRatio",
            "scaleRuns",
            "scaleCompleted",
            "scaleWallSeconds",
            "peakHeapMb",
            "maxHistoryEvents")) {
      assertTrue(result.path(field).isNumber(), field + " in " + result);
    }
    assertEquals("--no-kubernetes", result.path("kubernetes").path("skipped").asText());
    assertEquals(BenchCommand.QUICK.handoffPhases() - 1, result.get("handoffs").asInt());
    assertEquals(result.get("scaleRuns").asInt(), result.get("scaleCompleted").asInt());
    assertTrue(result.get("longCompleted").asBoolean(), result.toString());
  }

  @Test
  void kubernetesOptionsWithoutAKubeconfigAreRefusedBeforeAnythingStarts() {
    Cli.Result bench = new Cli(home).run("bench", "--quick", "--k8s-namespace", "ml");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals(
        "bench: --k8s-namespace, --artifacts and --audit-log go with --kubeconfig\n", bench.err());
    assertEquals("", bench.out());
  }

  @Test
  void theDevServerAndAnAddressTogetherAreRefusedBeforeAnythingStarts() {
    Cli.Result bench =
        new Cli(home).run("bench", "--quick", "--dev-server", "--address", "127.0.0.1:1");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals("bench: --dev-server starts its own Temporal; drop --address\n", bench.err());
    assertEquals("", bench.out());
  }
}
