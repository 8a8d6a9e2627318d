package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.starter.RealTemporal.WorkerProcess;
import dev.syllabus.worker.CliDevServer;
import dev.syllabus.worker.Temporal;
import io.temporal.common.WorkflowExecutionHistory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo curriculum run through a TLS-terminating proxy in front of the real Temporal dev server,
 * as a user with a working {@code temporal} set-up runs it: the worker (a JVM of its own, from the
 * packaged jar) and {@code syllabus run} configured only by the profile file or the {@code
 * TEMPORAL_*} variables, no connection flags. With an API key, the key reaches the proxy on every
 * call and appears nowhere else: not in the runs' histories, logs, output or job files.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TemporalOverTlsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String API_KEY = "tk-live-3b7e91c04d5f";
  private static final List<String> PHASES = List.of("0-easy", "1-medium", "2-hard");

  @TempDir static Path home;
  private static CliDevServer server;
  private static Temporal direct;
  private static TestCertificates.Authority ca;
  private static TlsProxy mtls;
  private static TlsProxy apiKeyOnly;

  @BeforeAll
  static void startServerAndProxies() throws Exception {
    Path binary = RealTemporal.binary();
    server = CliDevServer.start(binary, 0, 0, null, home.resolve("temporal/dev.log"), "default");
    direct = Temporal.connect(server.address(), "default", Duration.ofSeconds(30));
    ca = TestCertificates.authority(home.resolve("certs"), "ca");
    TestCertificates.Issued proxyCert = ca.server("proxy");
    mtls = new TlsProxy(server.address(), proxyCert, ca.cert, null);
    apiKeyOnly = new TlsProxy(server.address(), proxyCert, null, API_KEY);
  }

  @AfterAll
  static void stopAll() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {mtls, apiKeyOnly, direct, server}) {
      if (c != null) {
        c.close();
      }
    }
  }

  /** The demo run to its end with {@code syllabus run --wait --json}; its final status. */
  private static JsonNode runDemo(Map<String, String> env, String id) throws IOException {
    Cli.Result run =
        new Cli(home)
            .withEnvironment(env)
            .run("run", "recipes/demo.yaml", "--id", id, "--wait", "--json");
    assertEquals(0, run.exitCode(), run.out() + run.err());
    String output = run.out() + run.err();
    assertFalse(output.contains(API_KEY), output);
    String json = run.out().substring(run.out().indexOf('{'));
    return JSON.readTree(json);
  }

  private static WorkerProcess worker(Map<String, String> env, String name) throws Exception {
    return WorkerProcess.start(
        RealTemporal.worker(List.of(), env, home, null), home.resolve(name + ".log"));
  }

  @Test
  void aRunGoesThroughMutualTlsWithTheProfileFileAsItsOnlySetting() throws Exception {
    TestCertificates.Issued client = ca.client("worker");
    Path profiles = home.resolve("temporal.toml");
    Files.writeString(
        profiles,
        """
        [profile.prod]
        address = "%s"
        namespace = "default"

        [profile.prod.tls]
        client_cert_path = "%s"
        client_key_path = "%s"
        server_ca_cert_path = "%s"
        """
            .formatted(mtls.address(), client.cert(), client.key(), ca.cert));
    Map<String, String> env =
        Map.of("TEMPORAL_CONFIG_FILE", profiles.toString(), "TEMPORAL_PROFILE", "prod");

    try (WorkerProcess worker = worker(env, "worker-mtls")) {
      assertTrue(
          worker.logHas(
              "polling syllabus at " + mtls.address() + " (namespace default, mTLS); artifacts"),
          RealTemporal.read(worker.log));
      int before = mtls.forwarded();

      JsonNode end = runDemo(env, "over-mtls");

      assertEquals("COMPLETED", end.get("state").asText(), end.toString());
      assertEquals(3000, end.get("step").asLong());
      assertTrue(mtls.forwarded() > before + 20, "calls through the proxy: " + mtls.forwarded());
      System.out.printf("mTLS: %d calls forwarded%n", mtls.forwarded());
    }
  }

  @Test
  void anApiKeyGoesOnEveryCallAndIntoNoHistoryLogOrFile() throws Exception {
    Map<String, String> env =
        Map.of(
            "TEMPORAL_ADDRESS", apiKeyOnly.address(),
            "TEMPORAL_API_KEY", API_KEY,
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH", ca.cert.toString());
    JsonNode end;
    Path log;
    try (WorkerProcess worker = worker(env, "worker-api-key")) {
      log = worker.log;
      assertTrue(
          worker.logHas(
              "polling syllabus at " + apiKeyOnly.address() + " (namespace default, TLS, API key)"),
          RealTemporal.read(worker.log));

      end = runDemo(env, "over-key");
    }

    assertEquals("COMPLETED", end.get("state").asText(), end.toString());
    assertTrue(apiKeyOnly.forwarded() > 20, "calls through the proxy: " + apiKeyOnly.forwarded());
    assertEquals(0, apiKeyOnly.refused(), "every call carried the key");
    assertEquals(Set.of("Bearer " + API_KEY), apiKeyOnly.authorizations());
    System.out.printf(
        "API key: %d calls forwarded, each with the key, %d refused%n",
        apiKeyOnly.forwarded(), apiKeyOnly.refused());

    List<String> runs = new ArrayList<>(List.of("over-key"));
    PHASES.forEach(phase -> runs.add("over-key." + phase));
    for (String id : runs) {
      WorkflowExecutionHistory history = direct.client().fetchHistory(id);
      assertTrue(history.getEvents().size() > 5, id + " has a history");
      assertFalse(history.toJson(false).contains(API_KEY), id + "'s history holds the API key");
    }
    assertFalse(RealTemporal.read(log).contains(API_KEY), "the worker's log holds the API key");
    try (Stream<Path> files = Files.walk(home.resolve("runs/over-key"))) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        assertFalse(
            new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains(API_KEY),
            file + " holds the API key");
      }
    }
  }

  @Test
  void aWorkerWithAWrongApiKeyStopsWithOneLineAndExitTwo() throws Exception {
    Map<String, String> env =
        Map.of(
            "TEMPORAL_ADDRESS", apiKeyOnly.address(),
            "TEMPORAL_API_KEY", "tk-revoked",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH", ca.cert.toString());
    Path log = home.resolve("worker-wrong-key.log");
    ProcessBuilder builder = RealTemporal.worker(List.of(), env, home, null);
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    Process worker = builder.start();

    assertTrue(worker.waitFor(60, TimeUnit.SECONDS), "the worker stops");
    assertEquals(2, worker.exitValue(), RealTemporal.read(log));
    assertEquals(
        "Temporal at "
            + apiKeyOnly.address()
            + " refused the API key from TEMPORAL_API_KEY: UNAUTHENTICATED the API key is not"
            + " valid\n",
        RealTemporal.read(log));
  }
}
