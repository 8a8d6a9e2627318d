package dev.syllabus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.PhaseMetrics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code /metrics}: what the scope the worker reports to shows to Prometheus, and how. */
@Timeout(30)
class MetricsEndpointTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private MetricsEndpoint endpoint;

  @BeforeEach
  void serve() {
    endpoint = MetricsEndpoint.onLoopback(0);
  }

  @AfterEach
  void close() {
    endpoint.close();
  }

  @Test
  void countersAreServedInPrometheusTextFormatWithTheTotalSuffix() throws Exception {
    endpoint.scope().tagged(Map.of("activity_type", "FollowJob")).counter("syllabus_test").inc(3);

    String line = awaitLine("syllabus_test_total{");
    assertEquals("syllabus_test_total{activity_type=\"FollowJob\"} 3.0", line);
    HttpResponse<String> response = get("/metrics");
    assertEquals(200, response.statusCode());
    assertEquals(
        MetricsEndpoint.CONTENT_TYPE, response.headers().firstValue("Content-Type").orElse(""));
  }

  @Test
  void latencyHistogramsHaveBucketsInSecondsFromATenthOfASecondToAnHour() throws Exception {
    endpoint
        .scope()
        .tagged(Map.of("recipe", "demo", "phase", "medium"))
        .timer(PhaseMetrics.HANDOFF_LATENCY)
        .record(com.uber.m3.util.Duration.ofMillis(1500));

    List<String> buckets =
        get("/metrics")
            .body()
            .lines()
            .filter(l -> l.startsWith("syllabus_handoff_latency_seconds_bucket{"))
            .toList();
    assertEquals(MetricsEndpoint.LATENCY_BUCKETS.length + 1, buckets.size(), buckets.toString());
    assertTrue(buckets.get(0).contains("le=\"0.1\""), buckets.get(0));
    assertTrue(buckets.contains(bucket("1.0", 0)), buckets.toString());
    assertTrue(buckets.contains(bucket("2.5", 1)), buckets.toString());
    assertTrue(buckets.contains(bucket("3600.0", 1)), buckets.toString());
    assertTrue(buckets.contains(bucket("+Inf", 1)), buckets.toString());
    assertTrue(
        get("/metrics")
            .body()
            .contains(
                "syllabus_handoff_latency_seconds_sum{phase=\"medium\",recipe=\"demo\"} 1.5"));
  }

  @Test
  void everyOtherPathIsNotFoundAndSaysWhereTheMetricsAre() throws Exception {
    HttpResponse<String> response = get("/");
    assertEquals(404, response.statusCode());
    assertEquals("not found: metrics are at /metrics\n", response.body());
  }

  @Test
  void itListensOnLoopbackAndNamesItsUrl() {
    assertEquals("http://127.0.0.1:" + endpoint.port() + "/metrics", endpoint.url());
  }

  @Test
  void aPortInUseIsNamedWithWhatToDo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      MetricsEndpoint.PortTaken e =
          assertThrows(MetricsEndpoint.PortTaken.class, () -> MetricsEndpoint.onLoopback(port));
      assertTrue(
          e.getMessage().startsWith("--metrics-port " + port + ": cannot serve metrics there ("),
          e.getMessage());
      assertTrue(e.getMessage().endsWith("is another worker using it? Choose another port"));
    }
  }

  private static String bucket(String le, int count) {
    return "syllabus_handoff_latency_seconds_bucket{phase=\"medium\",recipe=\"demo\",le=\""
        + le
        + "\"} "
        + count;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Counters reach the registry at the scope's next report, within a second or so. */
  private String awaitLine(String prefix) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      for (String line : get("/metrics").body().lines().toList()) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no line starting " + prefix + " in\n" + endpoint.scrape());
  }
}
