package dev.syllabus.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import dev.syllabus.workflows.PhaseMetrics;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;

/**
 * The worker's metrics for Prometheus at {@code http://HOST:PORT/metrics}: the Temporal SDK's own
 * (pollers, workflow and activity tasks, the sticky cache) and Syllabus's ({@link PhaseMetrics},
 * the follow activity's heartbeats), all through the one {@link #scope} the worker's connection to
 * Temporal is given. docs/monitoring.md ("Metrics") lists them.
 */
public final class MetricsEndpoint implements AutoCloseable {

  /** How often the SDK's counters and gauges reach the registry; timers reach it at once. */
  static final com.uber.m3.util.Duration REPORT_EVERY = com.uber.m3.util.Duration.ofSeconds(1);

  /** The latency histograms Syllabus records, with {@link #LATENCY_BUCKETS} as their buckets. */
  static final Set<String> LATENCIES =
      Set.of(PhaseMetrics.HANDOFF_LATENCY, PhaseMetrics.PAUSE_LATENCY);

  /**
   * The upper bounds of the latency histograms' buckets: a handoff or a pause takes from under a
   * second (local jobs) to minutes (a checkpoint to save, pods to schedule).
   */
  static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofMinutes(1),
    Duration.ofMinutes(2),
    Duration.ofMinutes(5),
    Duration.ofMinutes(10),
    Duration.ofMinutes(30),
    Duration.ofHours(1)
  };

  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final Scope scope;
  private final HttpServer server;

  private MetricsEndpoint(PrometheusMeterRegistry registry, Scope scope, HttpServer server) {
    this.registry = registry;
    this.scope = scope;
    this.server = server;
  }

  /** Serves {@code /metrics} on every interface (a worker in a pod), at {@code port}. */
  public static MetricsEndpoint onEveryInterface(int port) {
    return serve(new InetSocketAddress(port));
  }

  /** Serves {@code /metrics} on 127.0.0.1 only (dev and demo on a laptop), at {@code port}. */
  public static MetricsEndpoint onLoopback(int port) {
    return serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
  }

  /**
   * Serves {@code /metrics} at {@code where} (port 0: a free one).
   *
   * @throws PortTaken when something else listens there
   */
  public static MetricsEndpoint serve(InetSocketAddress where) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(latencyBuckets());
    HttpServer server;
    try {
      server = HttpServer.create(where, 0);
    } catch (IOException e) {
      registry.close();
      throw new PortTaken(
          "--metrics-port "
              + where.getPort()
              + ": cannot serve metrics there ("
              + e.getMessage()
              + "); is another worker using it? Choose another port");
    }
    server.createContext("/", exchange -> answer(exchange, registry));
    server.start();
    Scope scope =
        new RootScopeBuilder()
            .reporter(new MicrometerClientStatsReporter(registry))
            .reportEvery(REPORT_EVERY);
    return new MetricsEndpoint(registry, scope, server);
  }

  /** What the Temporal connection reports to ({@code WorkflowServiceStubsOptions.metricsScope}). */
  public Scope scope() {
    return scope;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Where the metrics are, as a person on this machine would fetch them. */
  public String url() {
    InetAddress address = server.getAddress().getAddress();
    String host =
        address.isAnyLocalAddress()
            ? InetAddress.getLoopbackAddress().getHostAddress()
            : address.getHostAddress();
    return "http://" + host + ":" + port() + "/metrics";
  }

  /** The metrics now, in Prometheus's text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** Stops serving and reporting. */
  @Override
  public void close() {
    server.stop(0);
    try {
      scope.close();
    } catch (Exception e) {
      // closing: nothing more to report
    }
    registry.close();
  }

  /** Buckets of our own for Syllabus's latencies, instead of the SDK's default of about 70. */
  static MeterFilter latencyBuckets() {
    double[] bounds = Arrays.stream(LATENCY_BUCKETS).mapToDouble(Duration::toNanos).toArray();
    return new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(
          Meter.Id id, DistributionStatisticConfig config) {
        if (!LATENCIES.contains(id.getName())) {
          return config;
        }
        return DistributionStatisticConfig.builder()
            .percentilesHistogram(false)
            .serviceLevelObjectives(bounds)
            .build()
            .merge(config);
      }
    };
  }

  private static void answer(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      boolean metrics = path.equals("/metrics");
      byte[] body =
          (metrics ? registry.scrape() : "not found: metrics are at /metrics\n")
              .getBytes(StandardCharsets.UTF_8);
      exchange
          .getResponseHeaders()
          .set("Content-Type", metrics ? CONTENT_TYPE : "text/plain; charset=utf-8");
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(metrics ? 200 : 404, head ? -1 : body.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  /** The metrics port is in use, or the host cannot be listened on; the message says which. */
  public static final class PortTaken extends RuntimeException {
    PortTaken(String message) {
      super(message);
    }
  }
}
