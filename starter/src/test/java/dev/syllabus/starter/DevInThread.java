package dev.syllabus.starter;

import java.net.ServerSocket;
import java.time.Duration;

/**
 * {@code syllabus dev} on a free port, in a thread of the test's JVM: the first terminal of a day
 * on a laptop, for tests that play the second one.
 */
final class DevInThread implements AutoCloseable {
  private final Thread thread;
  private final String address;

  private DevInThread(Thread thread, String address) {
    this.thread = thread;
    this.address = address;
  }

  /** Starts {@code dev} with {@code cli}'s paths and waits until it serves. */
  static DevInThread start(Cli cli) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String portText = Integer.toString(port);
    Thread thread = new Thread(() -> cli.run("dev", "--port", portText), "dev");
    thread.start();
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
    return new DevInThread(thread, "127.0.0.1:" + port);
  }

  /** Where it serves Temporal, for {@code --address}. */
  String address() {
    return address;
  }

  /** Stops it as Ctrl-C does: the worker and the server stop. */
  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join(30_000);
  }

  interface Check {
    boolean holds() throws Exception;
  }

  /** Waits until {@code check} holds, looking every 200 ms. */
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
