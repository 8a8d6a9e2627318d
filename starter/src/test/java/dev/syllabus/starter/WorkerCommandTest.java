package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What `syllabus worker` refuses before it connects to anything. */
class WorkerCommandTest {
  @TempDir Path home;

  @Test
  void theKubernetesBackendNeedsTheArtifactVolumeMounted() {
    Path missing = home.resolve("not-mounted");
    Cli.Result result =
        new Cli(home).run("worker", "--backend", "kubernetes", "--artifacts", missing.toString());
    assertEquals(2, result.exitCode(), result.err());
    assertEquals(
        "--artifacts "
            + missing
            + ": no such folder; mount the artifact PVC there (see deploy/) or name where it is"
            + " mounted\n",
        result.err());
  }

  @Test
  void aMissingKubeconfigIsNamed() throws Exception {
    Path artifacts = Files.createDirectories(home.resolve("artifacts"));
    Path kubeconfig = home.resolve("nope.yaml");
    Cli.Result result =
        new Cli(home)
            .run(
                "worker",
                "--backend",
                "kubernetes",
                "--artifacts",
                artifacts.toString(),
                "--kubeconfig",
                kubeconfig.toString());
    assertEquals(2, result.exitCode(), result.err());
    assertTrue(result.err().contains("--kubeconfig: no such file: " + kubeconfig), result.err());
  }

  @Test
  void aMetricsPortInUseIsBadInputBeforeAnythingStarts() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      Cli.Result result = new Cli(home).run("worker", "--metrics-port", Integer.toString(port));
      assertEquals(2, result.exitCode(), result.err());
      assertTrue(
          result.err().startsWith("--metrics-port " + port + ": cannot serve metrics there ("),
          result.err());
    }
  }

  @Test
  void aMetricsPortOutOfRangeIsBadInput() {
    Cli.Result result = new Cli(home).run("worker", "--metrics-port", "70000");
    assertEquals(2, result.exitCode(), result.err());
    assertEquals("--metrics-port 70000: not a port (0 to 65535)\n", result.err());
  }

  @Test
  void helpOfEveryCommandThatRunsAWorkerExplainsTheMetricsPort() {
    for (String command : new String[] {"worker", "dev", "demo"}) {
      Cli.Result result = new Cli(home).run(command, "--help");
      assertTrue(result.out().contains("--metrics-port=PORT"), command + ": " + result.out());
      assertTrue(result.out().contains("docs/monitoring.md"), command + ": " + result.out());
    }
  }

  @Test
  void helpNamesBothBackends() {
    Cli.Result result = new Cli(home).run("help", "worker");
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(result.out().contains("local, kubernetes"), result.out());
    assertTrue(result.out().contains("--k8s-namespace"), result.out());
  }
}
