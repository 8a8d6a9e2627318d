package dev.syllabus.starter;

import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.Scope;
import dev.syllabus.worker.Temporal;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Where the Temporal service is: {@code --address} and {@code --namespace}, for every command. */
public final class TemporalOptions {

  @Option(
      names = "--address",
      description = "Temporal frontend host:port (env TEMPORAL_ADDRESS; default ${DEFAULT-VALUE})",
      defaultValue = "${env:TEMPORAL_ADDRESS:-127.0.0.1:7233}",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String address;

  @Option(
      names = "--namespace",
      description = "Temporal namespace (env TEMPORAL_NAMESPACE; default ${DEFAULT-VALUE})",
      defaultValue = "${env:TEMPORAL_NAMESPACE:-default}",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String namespace;

  public String address() {
    return address;
  }

  public String namespace() {
    return namespace;
  }

  Temporal connect() {
    return connect(new NoopScope());
  }

  /** Connects a worker, which reports its metrics to {@code metrics}. */
  Temporal connect(Scope metrics) {
    try {
      return Temporal.connect(address, namespace, Duration.ofSeconds(5), metrics);
    } catch (Temporal.Unreachable e) {
      throw new Exit.Failed(e.getMessage());
    }
  }
}
