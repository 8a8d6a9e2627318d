package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus bench --quick --json}, the packaged command (the bench module's jar), measures
 * the Kubernetes numbers on a testbed of its own: it runs, and prints every number it promises. Not
 * a benchmark: what the numbers are is for docs/benchmarks.md, never an assertion here.
 */
class BenchIT {
  @TempDir Path home;

  @Test
  @Timeout(900)
  void quickBenchMeasuresTheKubernetesNumbersOnATestbedOfItsOwn() throws Exception {
    BenchJar.assumeTestbedBuilt();
    JsonNode result = BenchJar.run(home, Duration.ofMinutes(14), "--quick", "--json");
    JsonNode kubernetes = result.path("kubernetes");
    assertTrue(kubernetes.path("cluster").asText().startsWith("the testbed"), result.toString());
    assertEquals("audit log", result.path("apiRequestsCountedBy").asText(), result.toString());
    for (String field : List.of("apiRequestsPerPhaseShort", "apiRequestsPerPhaseLong")) {
      assertTrue(result.path(field).isNumber(), field + " in " + result);
    }
    assertTrue(
        result.path("apiRequestsLongByVerb").path("create jobs").isNumber(), result.toString());
    for (String part : List.of("kubernetesHandoff", "pauseLatency")) {
      for (String field : List.of("p50Ms", "p99Ms", "maxMs")) {
        assertTrue(result.path(part).path(field).isNumber(), part + "." + field + " in " + result);
      }
    }
    assertEquals(3, result.path("pauseLatency").path("pauses").asInt(), result.toString());
    assertTrue(result.path("simulatedWeek").path("completed").asBoolean(), result.toString());
  }

  @Test
  @Timeout(600)
  void concurrentPhasesAllRunAtOnceReportProgressAndComplete() throws Exception {
    BenchJar.assumeTestbedBuilt();
    JsonNode result =
        BenchJar.run(
            home,
            Duration.ofMinutes(9),
            "--concurrent-phases",
            "20",
            "--hold-seconds",
            "30",
            "--json");
    JsonNode concurrent = result.path("concurrentPhases");
    assertTrue(
        result.path("kubernetes").path("cluster").asText().startsWith("the testbed"),
        result.toString());
    for (String field :
        List.of(
            "heldSeconds",
            "secondsUntilAllRunning",
            "phasesAdvancedInEverySample",
            "phasesShowingLoss",
            "peakActivitiesRunning",
            "activitySlots",
            "apiRequestsPerSecond",
            "apiRequestsWholeRun",
            "peakHeapUsedMb",
            "peakHeapAfterGcMb",
            "maxHeapMb",
            "wallSeconds")) {
      assertTrue(concurrent.path(field).isNumber(), field + " in " + result);
    }
    assertTrue(concurrent.path("allPodsRunning").isBoolean(), result.toString());
    assertTrue(concurrent.path("capped").isArray(), result.toString());
    assertTrue(concurrent.path("followWaitForSlot").path("follows").isNumber(), result.toString());
    assertTrue(concurrent.path("apiRequestsPerSecondByVerb").isObject(), result.toString());
    assertTrue(
        concurrent.path("apiRequestsWholeRunByVerb").path("get pods/log").isNumber(),
        result.toString());
    assertEquals(20, concurrent.path("runsAdvancedInSomeSample").asInt(), result.toString());
    assertEquals(20, concurrent.path("completed").asInt(), result.toString());
    assertEquals(20, concurrent.path("completedWithEveryStep").asInt(), result.toString());
  }
}
