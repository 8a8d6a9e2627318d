package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code syllabus dev} in a thread of the test's JVM, as in a first terminal, on a free port; the
 * test's commands reach it at {@link #address}, as from a second terminal.
 */
final class DevInThread implements AutoCloseable {
  private final Thread dev;
  final String address;

  private DevInThread(Thread dev, String address) {
    this.dev = dev;
    this.address = address;
  }

  /** Starts {@code dev} through {@code cli} and waits until its Temporal serves. */
  static DevInThread start(Cli cli) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String portText = Integer.toString(port);
    Thread dev = new Thread(() -> cli.run("dev", "--port", portText), "dev");
    dev.start();
    eventually(
        "dev serves",
        Duration.ofSeconds(30),
        () -> {
          try (ServerSocket probe = new ServerSocket(port)) {
            return false;
          } catch (Exception inUse) {
            return true;
          }
        });
    return new DevInThread(dev, "127.0.0.1:" + port);
  }

  /** {@code syllabus run recipes/demo.yaml --id id}, with each override as a {@code --set}. */
  Cli.Result runDemo(Cli cli, String id, String... overrides) {
    List<String> args =
        new ArrayList<>(List.of("run", "recipes/demo.yaml", "--id", id, "--address", address));
    for (String override : overrides) {
      args.add("--set");
      args.add(override);
    }
    Cli.Result run = cli.run(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.err());
    return run;
  }

  /** Where it serves Temporal, for {@code --address}. */
  String address() {
    return address;
  }

  /** As Ctrl-C: the worker and the server stop. */
  @Override
  public void close() throws InterruptedException {
    dev.interrupt();
    dev.join(30_000);
  }

  interface Check {
    boolean holds() throws Exception;
  }

  /** Waits until {@code check} holds; fails naming {@code what} after {@code timeout}. */
  static void eventually(String what, Duration timeout, Check check) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(200);
    }
  }
}
