package dev.syllabus.worker;

import io.temporal.testserver.TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Optional;

/**
 * A Temporal service inside this process: the Java SDK's test server bound to a port, in real time.
 * What {@code syllabus dev} and {@code syllabus demo} run when no Temporal is at hand. It keeps its
 * state in memory only, and has no Web UI.
 */
public final class EmbeddedTemporal implements LocalTemporal {

  private final TestServer.PortBoundTestServer server;
  private final int port;

  private EmbeddedTemporal(TestServer.PortBoundTestServer server, int port) {
    this.server = server;
    this.port = port;
  }

  /** Starts on {@code port}, or on a free port when it is 0. */
  public static EmbeddedTemporal start(int port) {
    int chosen = port == 0 ? freePort() : port;
    CliDevServer.requireFree(chosen, "--port");
    // true locks time skipping: the server keeps real time. Unlocked, it jumps its clock forward
    // whenever a run waits on nothing but a signal, e.g. while paused, straight to its timeout.
    return new EmbeddedTemporal(TestServer.createPortBoundServer(chosen, true), chosen);
  }

  @Override
  public String address() {
    return "127.0.0.1:" + port;
  }

  @Override
  public Optional<String> webUi() {
    return Optional.empty();
  }

  @Override
  public String description() {
    return "embedded test server, in memory";
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    server.close();
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port: " + e.getMessage(), e);
    }
  }
}
