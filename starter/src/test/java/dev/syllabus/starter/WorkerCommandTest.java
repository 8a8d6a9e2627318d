package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
  void helpNamesBothBackends() {
    Cli.Result result = new Cli(home).run("help", "worker");
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(result.out().contains("local, kubernetes"), result.out());
    assertTrue(result.out().contains("--k8s-namespace"), result.out());
  }
}
