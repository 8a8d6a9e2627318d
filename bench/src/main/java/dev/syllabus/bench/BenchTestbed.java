package dev.syllabus.bench;

import dev.syllabus.starter.Exit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The testbed bench starts for the Kubernetes numbers when the testbed is built ({@code
 * testbed/build}) and no {@code --kubeconfig} names a cluster: started by {@code testbed/up} on
 * ports of the bench's own, with a namespace {@code bench} set up by {@code testbed/namespace} as
 * deploy/ sets one up, and stopped by {@code testbed/down} on close, or on Ctrl-C.
 */
final class BenchTestbed implements AutoCloseable {
  /**
   * The bench's own testbed: its first port (21440 unless {@code SYLLABUS_BENCH_PORT_BASE} says
   * otherwise), and its trainers' step time (a second, compressed).
   */
  private static final int PORT_BASE = portBase();

  private static final double STEP_SECONDS = 0.001;

  /**
   * The testbed's nodes and the stand-in trainers' speed.
   *
   * @param nodes fake GPU nodes
   * @param gpusPerNode {@code nvidia.com/gpu} on each
   * @param stepSeconds how long a stand-in trainer's step takes
   */
  record Shape(int nodes, int gpusPerNode, double stepSeconds) {}

  /** The testbed of the usual measurements: one 8-GPU node, a step a millisecond. */
  static final Shape USUAL = new Shape(1, 8, STEP_SECONDS);

  private final Path scripts;
  private final Path dir;
  private final ClusterTarget target;
  private final Thread onCtrlC;

  private BenchTestbed(Path scripts, Path dir, ClusterTarget target) {
    this.scripts = scripts;
    this.dir = dir;
    this.target = target;
    this.onCtrlC = new Thread(this::stop, "bench-testbed-down");
  }

  /** Whether {@code testbed/build} has built the testbed in checkout {@code repo}. */
  static boolean isBuilt(Path repo) {
    return script(List.of(repo.resolve("testbed/build").toString(), "--check"), null) == 0;
  }

  /** Whether {@code testbed/argo/build} has built Argo's workflow-controller for {@code repo}. */
  static boolean isArgoBuilt(Path repo) {
    return script(List.of(repo.resolve("testbed/argo/build").toString(), "--check"), null) == 0;
  }

  /**
   * Starts a testbed in {@code home}, sets its namespace up, and has Ctrl-C stop it.
   *
   * @throws Exit.Failed when a script fails, with the end of its log
   */
  static BenchTestbed start(Path repo, Path home) {
    return start(repo, home, USUAL);
  }

  /** As {@link #start(Path, Path)}, with these nodes and this trainer speed. */
  static BenchTestbed start(Path repo, Path home, Shape shape) {
    Path scripts = repo.resolve("testbed");
    Path dir = home.resolve("testbed");
    Path upLog = home.resolve("testbed-up.log");
    if (script(
            List.of(
                scripts.resolve("up").toString(),
                "--dir",
                dir.toString(),
                "--port-base",
                Integer.toString(PORT_BASE),
                "--nodes",
                Integer.toString(shape.nodes()),
                "--gpus",
                Integer.toString(shape.gpusPerNode()),
                "--step-seconds",
                Double.toString(shape.stepSeconds())),
            upLog)
        != 0) {
      throw new Exit.Failed("bench: testbed/up failed: " + tail(upLog));
    }
    Path pvc = home.resolve("pvc");
    Path nsLog = home.resolve("testbed-namespace.log");
    ClusterTarget target =
        new ClusterTarget(
            dir.resolve("namespaces/bench.kubeconfig"),
            "bench",
            pvc,
            dir.resolve("logs/audit.log"),
            "the testbed (a real control plane, kwok nodes, stand-in trainers)",
            shape.stepSeconds());
    BenchTestbed testbed = new BenchTestbed(scripts, dir, target);
    if (script(
            List.of(
                scripts.resolve("namespace").toString(),
                "bench",
                "--artifacts",
                pvc.toString(),
                "--dir",
                dir.toString()),
            nsLog)
        != 0) {
      testbed.stop();
      throw new Exit.Failed("bench: testbed/namespace failed: " + tail(nsLog));
    }
    Runtime.getRuntime().addShutdownHook(testbed.onCtrlC);
    return testbed;
  }

  /** The testbed's namespace, as the measurements see it. */
  ClusterTarget target() {
    return target;
  }

  /** The testbed's administrator's kubeconfig (the bench's pod watcher sees every namespace). */
  Path adminKubeconfig() {
    return dir.resolve("kubeconfig");
  }

  /**
   * Starts Argo Workflows' controller in a namespace of its own ({@code testbed/argo/up}); {@code
   * testbed/down} stops it with the testbed.
   *
   * @param requeueTime its {@code DEFAULT_REQUEUE_TIME} (a Go duration), or null for Argo's default
   * @throws Exit.Failed when it cannot start, with the end of the script's output
   */
  void startArgo(String namespace, String requeueTime) {
    List<String> command = new ArrayList<>();
    command.add(scripts.resolve("argo/up").toString());
    command.add(namespace);
    command.add("--dir");
    command.add(dir.toString());
    if (requeueTime != null) {
      command.add("--requeue-time");
      command.add(requeueTime);
    }
    Path log = dir.resolve("argo-up-" + namespace + ".log");
    if (script(command, log) != 0) {
      throw new Exit.Failed("bench: testbed/argo/up " + namespace + " failed: " + tail(log));
    }
  }

  /** Stops the testbed. */
  @Override
  public void close() {
    stop();
    Runtime.getRuntime().removeShutdownHook(onCtrlC);
  }

  private void stop() {
    script(List.of(scripts.resolve("down").toString(), "--dir", dir.toString()), null);
  }

  /** Runs one of the testbed's scripts; its output goes to {@code log} (or nowhere). */
  private static int script(List<String> command, Path log) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(
          log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(log.toFile()));
      Process p = builder.start();
      if (!p.waitFor(40, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new Exit.Failed("bench: cannot run " + command.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static int portBase() {
    String value = System.getenv("SYLLABUS_BENCH_PORT_BASE");
    return value == null || value.isBlank() ? 21440 : Integer.parseInt(value.strip());
  }
}
