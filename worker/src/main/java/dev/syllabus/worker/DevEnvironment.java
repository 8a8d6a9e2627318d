package dev.syllabus.worker;

import java.time.Duration;

/**
 * Everything {@code syllabus dev} and {@code syllabus demo} run in one process: an embedded
 * Temporal with Syllabus's search attributes, and a worker with the {@code local} backend.
 */
public final class DevEnvironment implements AutoCloseable {

  private final EmbeddedTemporal server;
  private final Temporal temporal;
  private final SyllabusWorker worker;

  private DevEnvironment(EmbeddedTemporal server, Temporal temporal, SyllabusWorker worker) {
    this.server = server;
    this.temporal = temporal;
    this.worker = worker;
  }

  /**
   * Starts on {@code port} (0: a free one).
   *
   * @throws IllegalStateException when the port is taken
   */
  public static DevEnvironment start(int port, String namespace, Paths paths) {
    EmbeddedTemporal server = EmbeddedTemporal.start(port);
    Temporal temporal = null;
    try {
      temporal = Temporal.connect(server.address(), namespace, Duration.ofSeconds(10));
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

  /** Stops the worker, then the connection, then the server. */
  @Override
  public void close() {
    worker.close();
    temporal.close();
    server.close();
  }
}
