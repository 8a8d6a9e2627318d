package dev.syllabus.worker;

import dev.syllabus.workflows.SearchKeys;
import io.temporal.api.enums.v1.IndexedValueType;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Temporal CLI's dev server ({@code temporal server start-dev}) as a child process: a real
 * Temporal server with its Web UI, keeping its state in a SQLite file so that runs survive a
 * restart of {@code syllabus dev}. Syllabus's search attributes are registered as it starts.
 */
public final class CliDevServer implements LocalTemporal {

  /**
   * Dynamic config the dev server starts with. Temporal reads a shard's transfer queue (the tasks
   * that dispatch workflow tasks, start child workflows and deliver signals) at most 20 times a
   * second by default ({@code history.transferProcessorMaxPollRPS}), a guard for databases behind
   * clusters of many shards; the dev server has one shard, so every such task waited for its turn,
   * up to 50 ms, and a phase handoff took about 445 ms instead of 170 (docs/benchmarks.md).
   */
  static final List<String> DYNAMIC_CONFIG = List.of("history.transferProcessorMaxPollRPS=1000");

  /** How long the server may take to answer after it was started. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final int port;
  private final int uiPort;
  private final Path database;
  private final Path log;

  private CliDevServer(Process process, int port, int uiPort, Path database, Path log) {
    this.process = process;
    this.port = port;
    this.uiPort = uiPort;
    this.database = database;
    this.log = log;
  }

  /** The {@code temporal} binary on PATH, if there is one. */
  public static Optional<Path> findBinary() {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, "temporal");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Starts the dev server and returns once it answers.
   *
   * @param port the frontend port (0: a free one)
   * @param uiPort the Web UI's port (0: a free one)
   * @param database the SQLite file to keep state in, or null to keep it in memory
   * @param log where the server's output goes
   * @throws IllegalStateException when a port is taken or the server does not come up; the message
   *     says why, with the last lines of its log
   */
  public static CliDevServer start(
      Path binary, int port, int uiPort, Path database, Path log, String namespace) {
    int frontend = port == 0 ? EmbeddedTemporal.freePort() : port;
    int ui = uiPort == 0 ? EmbeddedTemporal.freePort() : uiPort;
    requireFree(frontend, "--port");
    requireFree(ui, "--ui-port");
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(List.of("server", "start-dev", "--ip", "127.0.0.1"));
    command.addAll(
        List.of("--port", Integer.toString(frontend), "--ui-port", Integer.toString(ui)));
    command.add("--ui-disable-news-fetch");
    for (String value : DYNAMIC_CONFIG) {
      command.addAll(List.of("--dynamic-config-value", value));
    }
    if (!"default".equals(namespace)) {
      command.addAll(List.of("--namespace", namespace));
    }
    if (database != null) {
      command.addAll(List.of("--db-filename", database.toString()));
    }
    for (SearchKeys.Definition d : SearchKeys.ALL) {
      command.addAll(List.of("--search-attribute", d.name() + "=" + typeName(d.type())));
    }
    Process process;
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      if (database != null) {
        Files.createDirectories(database.toAbsolutePath().getParent());
      }
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
    }
    CliDevServer server = new CliDevServer(process, frontend, ui, database, log);
    try {
      server.awaitAnswer();
      return server;
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /** Waits until both the frontend and the Web UI accept connections, or the process ends. */
  private void awaitAnswer() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!(accepts(port) && accepts(uiPort))) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "the Temporal dev server exited with code "
                + process.exitValue()
                + " as it started; its log ("
                + log
                + ") ends with: "
                + tail(log));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the Temporal dev server did not answer within "
                + START_TIMEOUT.toSeconds()
                + " s; its log ("
                + log
                + ") ends with: "
                + tail(log));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting Temporal", e);
      }
    }
  }

  @Override
  public String address() {
    return "127.0.0.1:" + port;
  }

  @Override
  public Optional<String> webUi() {
    return Optional.of("http://127.0.0.1:" + uiPort);
  }

  @Override
  public String description() {
    return "Temporal CLI dev server, "
        + (database != null ? "state in " + database : "in memory")
        + ", log in "
        + log;
  }

  public long pid() {
    return process.pid();
  }

  /** {@code kill -9}: the server dies at once, as in a crash. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the server: SIGTERM, and SIGKILL if it has not ended within 10 s. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  static String typeName(IndexedValueType type) {
    return switch (type) {
      case INDEXED_VALUE_TYPE_KEYWORD -> "Keyword";
      case INDEXED_VALUE_TYPE_TEXT -> "Text";
      case INDEXED_VALUE_TYPE_INT -> "Int";
      case INDEXED_VALUE_TYPE_DOUBLE -> "Double";
      case INDEXED_VALUE_TYPE_BOOL -> "Bool";
      case INDEXED_VALUE_TYPE_DATETIME -> "Datetime";
      case INDEXED_VALUE_TYPE_KEYWORD_LIST -> "KeywordList";
      default -> throw new IllegalArgumentException("no dev-server name for " + type);
    };
  }

  static void requireFree(int port, String option) {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress("127.0.0.1", port));
    } catch (IOException e) {
      throw new IllegalStateException(
          "port "
              + port
              + " is in use (is another `syllabus dev` or Temporal running? use "
              + option
              + ")");
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The last few lines of a log, on one line. */
  static String tail(Path log) {
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      long length = file.length();
      int n = (int) Math.min(2000, length);
      byte[] bytes = new byte[n];
      file.seek(length - n);
      file.readFully(bytes);
      String[] lines = new String(bytes, StandardCharsets.UTF_8).strip().split("\\R");
      return String.join(
          " | ", List.of(lines).subList(Math.max(0, lines.length - 3), lines.length));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
