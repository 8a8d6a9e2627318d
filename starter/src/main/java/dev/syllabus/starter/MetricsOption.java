package dev.syllabus.starter;

import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.Scope;
import dev.syllabus.worker.MetricsEndpoint;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --metrics-port}, for the commands that run a worker: {@code worker}, {@code dev}, {@code
 * demo}.
 */
final class MetricsOption {

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description = {
        "serve Prometheus metrics at http://HOST:PORT/metrics: the runs' and phases' (syllabus_*)",
        "and the Temporal SDK's (temporal_*); docs/monitoring.md lists them. Off unless given;",
        "0: a free port. `worker` listens on every interface, `dev` and `demo` on 127.0.0.1."
      })
  Integer port;

  /** Serves the metrics, on every interface or on loopback only, when --metrics-port was given. */
  Optional<MetricsEndpoint> serve(boolean everyInterface) {
    if (port == null) {
      return Optional.empty();
    }
    if (port < 0 || port > 65_535) {
      throw new Exit.BadInput("--metrics-port " + port + ": not a port (0 to 65535)");
    }
    try {
      return Optional.of(
          everyInterface
              ? MetricsEndpoint.onEveryInterface(port)
              : MetricsEndpoint.onLoopback(port));
    } catch (MetricsEndpoint.PortTaken e) {
      throw new Exit.BadInput(e.getMessage());
    }
  }

  /** Where the worker reports its metrics: the endpoint's scope, or nowhere. */
  static Scope scopeOf(Optional<MetricsEndpoint> endpoint) {
    return endpoint.map(MetricsEndpoint::scope).orElseGet(NoopScope::new);
  }
}
