package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The packaged bench (the bench module's jar), run as a user runs it with {@code java -jar}: it
 * starts a testbed of its own, so the tests that run it need the testbed's programs built.
 */
final class BenchJar {
  private static final Path JAR = Testbed.REPO.resolve("bench/target/syllabus-bench.jar");

  private BenchJar() {}

  /**
   * Whether a build script of the testbed ({@code testbed/build}, ...) finds its programs built.
   */
  static boolean built(String script) throws Exception {
    return new ProcessBuilder(Testbed.REPO.resolve(script).toString(), "--check")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
            .waitFor()
        == 0;
  }

  /**
   * Skips the calling test unless the testbed is built, or fails it if SYLLABUS_REQUIRE_TESTBED.
   */
  static void assumeTestbedBuilt() throws Exception {
    if (!built("testbed/build") && System.getenv("SYLLABUS_REQUIRE_TESTBED") == null) {
      Assumptions.abort("the testbed is not built (testbed/build)");
    }
  }

  /**
   * Runs {@code java -jar syllabus-bench.jar ARGS} with {@code home} as SYLLABUS_HOME and returns
   * what it printed on stdout as JSON, once it ended with exit code 0 within {@code within}.
   */
  static JsonNode run(Path home, Duration within, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("java", "-jar", JAR.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(Testbed.REPO.toFile())
            .redirectError(home.resolve("bench.err").toFile());
    builder.environment().put("SYLLABUS_HOME", home.toString());
    Process bench = builder.start();
    String out = new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(bench.waitFor(within.toSeconds(), TimeUnit.SECONDS), "bench did not end");
    String err = Files.readString(home.resolve("bench.err"));
    assertEquals(0, bench.exitValue(), out + err);
    return new ObjectMapper().readTree(out);
  }
}
