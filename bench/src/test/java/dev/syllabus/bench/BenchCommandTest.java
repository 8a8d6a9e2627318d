package dev.syllabus.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.worker.Paths;
import java.io.PrintWriter;
import java.io.StringWriter;
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
  /** The checkout the tests run in: recipes/ and kubeconfigs/ come from here. */
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path home;

  private record Result(int exitCode, String out, String err) {}

  /** Runs {@code syllabus bench args…} in this JVM and keeps what it printed. */
  private Result bench(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        BenchCommand.execute(
            new Paths(REPO, home), args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  @Timeout(300)
  void quickBenchPrintsOneJsonObjectWithEveryNumber() throws Exception {
    // The Kubernetes numbers need the testbed: testbed/src/test/java/…/BenchIT measures them.
    Result bench = bench("--quick", "--json", "--no-kubernetes");

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
    assertEquals(Sizes.QUICK.handoffPhases() - 1, result.get("handoffs").asInt());
    assertEquals(result.get("scaleRuns").asInt(), result.get("scaleCompleted").asInt());
    assertTrue(result.get("longCompleted").asBoolean(), result.toString());
  }

  @Test
  void kubernetesOptionsWithoutAKubeconfigAreRefusedBeforeAnythingStarts() {
    Result bench = bench("--quick", "--k8s-namespace", "ml");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals(
        "bench: --k8s-namespace, --artifacts and --audit-log go with --kubeconfig\n", bench.err());
    assertEquals("", bench.out());
  }

  @Test
  void theDevServerAndAnAddressTogetherAreRefusedBeforeAnythingStarts() {
    Result bench = bench("--quick", "--dev-server", "--address", "127.0.0.1:1");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals("bench: --dev-server starts its own Temporal; drop --address\n", bench.err());
    assertEquals("", bench.out());
  }

  @Test
  void chainOptionsWithoutVersusArgoAreRefusedBeforeAnythingStarts() {
    Result bench = bench("--quick", "--steps", "5");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals(
        "bench: --steps, --step-seconds and --argo-requeue go with --versus-argo\n", bench.err());
  }

  @Test
  void aChainOfOneStepIsRefusedBeforeAnythingStarts() {
    Result bench = bench("--versus-argo", "--steps", "1");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals("bench: --steps must be at least 2 (a gap needs two steps)\n", bench.err());
  }

  @Test
  void anArgoRequeueTimeThatIsNotADurationIsRefused() {
    Result bench = bench("--versus-argo", "--argo-requeue", "default,fast");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals(
        "bench: --argo-requeue takes 'default' or Go durations such as 1s, got 'fast'\n",
        bench.err());
  }

  @Test
  void concurrentPhaseOptionsWithoutConcurrentPhasesAreRefusedBeforeAnythingStarts() {
    Result bench = bench("--hold-seconds", "30");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals(
        "bench: --hold-seconds, --max-running-phases and --temporal-defaults go with"
            + " --concurrent-phases\n",
        bench.err());
    assertEquals("", bench.out());
  }

  @Test
  void concurrentPhasesWithTwoWorkerSizesAreRefusedBeforeAnythingStarts() {
    Result bench =
        bench("--concurrent-phases", "5", "--max-running-phases", "10", "--temporal-defaults");

    assertEquals(2, bench.exitCode(), bench.err());
    assertEquals(
        "bench: --max-running-phases and --temporal-defaults contradict each other\n", bench.err());
  }

  @Test
  void helpExplainsTheBench() {
    Result help = bench("--help");

    assertEquals(0, help.exitCode(), help.err());
    assertTrue(help.out().startsWith("Usage: syllabus bench"), help.out());
    assertTrue(help.out().contains("--help"), help.out());
  }
}
