package dev.syllabus.testbed;

import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.starter.Syllabus;
import dev.syllabus.worker.EmbeddedTemporal;
import dev.syllabus.worker.Paths;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus logs} on the kubernetes backend, as a user runs it with the cluster's kubeconfig:
 * the trainer's log and a server's, read from their pods through the real API server (the player
 * writes what the containers print where kwok serves it as the pods' logs).
 */
@Timeout(600)
class LogsIT {
  @TempDir Path artifacts;
  @TempDir Path home;
  private EmbeddedTemporal server;
  private Temporal temporal;
  private Backend syllabus;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
    if (temporal != null) {
      temporal.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /** The test's Syllabus on the in-process server bound to a port, which the command reaches. */
  private Backend onTemporalWithAnAddress(String prefix) {
    server = EmbeddedTemporal.start(0);
    temporal = Temporal.connect(server.address(), "default", Duration.ofSeconds(30));
    temporal.registerSearchAttributes();
    return new Backend(prefix, artifacts, temporal.client());
  }

  private record Result(int exitCode, String out, String err) {}

  /** {@code syllabus logs RUN args…} against the test's Temporal and the testbed's cluster. */
  private Result logs(String run, String... args) {
    List<String> command =
        new ArrayList<>(
            List.of(
                "logs",
                run,
                "--address",
                server.address(),
                "--kubeconfig",
                Testbed.DIR.resolve("kubeconfig").toString(),
                "--k8s-namespace",
                syllabus.ns));
    command.addAll(List.of(args));
    return syllabus(command);
  }

  private Result syllabus(List<String> command) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Syllabus.execute(
            new Paths(Testbed.REPO, home),
            command.toArray(String[]::new),
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void logsOfATrainerAndItsServersFromTheirPods() throws Exception {
    syllabus = onTemporalWithAnAddress("logs");
    syllabus.start("g1", PhasesIT.recipe(300, PhasesIT.grpo()));
    eventually(
        "grpo trains",
        Duration.ofMinutes(3),
        () -> {
          var phase = syllabus.phase("g1", 0);
          return phase.state() == PhaseState.RUNNING && phase.step() > 0;
        });

    Result vllm = logs("g1", "--workload", "vllm");
    assertEquals(0, vllm.exitCode(), vllm.err());
    assertTrue(vllm.out().contains("INFO:     Application startup complete."), vllm.out());
    Result unknown = logs("g1", "--workload", "redis");
    assertEquals(2, unknown.exitCode(), unknown.out());
    assertEquals(
        "--workload: phase 'grpo' (verifiers/grpo) has no workload 'redis'; its workloads:"
            + " trainer, rewards, vllm",
        unknown.err().strip());

    Result follow = logs("g1", "--follow");
    assertEquals(0, follow.exitCode(), follow.err());
    assertTrue(follow.out().contains("***** Running training *****"), follow.out());
    assertTrue(follow.out().contains("Training completed."), follow.out());
    assertEquals(RunState.COMPLETED, syllabus.finish("g1").state());

    // The Job (and its pod's log) stays after the phase; its servers go with it.
    Result whole = logs("g1", "--phase", "grpo");
    assertEquals(0, whole.exitCode(), whole.err());
    assertTrue(whole.out().contains("Training completed."), whole.out());
    Result after = logs("g1", "--phase", "grpo", "--tail", "3");
    assertEquals(0, after.exitCode(), after.err());
    assertTrue(after.out().length() < whole.out().length(), after.out());
    assertTrue(whole.out().endsWith(after.out()), after.out());
    Result gone = logs("g1", "--workload", "rewards");
    assertEquals(1, gone.exitCode(), gone.out());
    assertTrue(
        gone.err().startsWith("syllabus: no pods of phase 'grpo' (attempt 1) run its rewards"),
        gone.err());
  }

  @Test
  void aClusterThatCannotBeReachedIsNamedWithItsContext() throws Exception {
    syllabus = onTemporalWithAnAddress("nowhere");
    syllabus.start("s1", PhasesIT.recipe(20, PhasesIT.sft(1.0)));
    assertEquals(RunState.COMPLETED, syllabus.finish("s1").state());
    Path kubeconfig = home.resolve("nowhere.kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: gone
          cluster: {server: "https://127.0.0.1:1"}
        contexts:
        - name: nowhere
          context: {cluster: gone, user: me}
        current-context: nowhere
        users:
        - name: me
          user: {token: x}
        """);
    Result result =
        syllabus(
            List.of(
                "logs",
                "s1",
                "--address",
                server.address(),
                "--kubeconfig",
                kubeconfig.toString()));
    assertEquals(1, result.exitCode(), result.out());
    assertTrue(
        result.err().startsWith("syllabus: cannot read the pods of run s1 in namespace default at"),
        result.err());
    assertTrue(
        result.err().contains("(context nowhere of kubeconfig " + kubeconfig + ")"), result.err());
    assertEquals(1, result.err().strip().lines().count(), result.err());
  }
}
