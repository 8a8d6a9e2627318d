package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.worker.EmbeddedTemporal;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus doctor --backend kubernetes}, the packaged command as a user runs it, against the
 * testbed's API server: it checks each permission of the worker's Role with the API server's own
 * access reviews, as the worker's ServiceAccount ({@code --as}), and the artifact claim.
 */
class DoctorIT {
  private static final Path JAR = Testbed.REPO.resolve("starter/target/syllabus.jar");

  @TempDir Path artifacts;
  @TempDir Path home;
  private Backend syllabus;
  private EmbeddedTemporal temporal;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
    if (temporal != null) {
      temporal.close();
    }
  }

  private record Result(int exitCode, List<String> lines, String out) {}

  private Result doctor() throws IOException, InterruptedException {
    List<String> command =
        List.of(
            "java",
            "-jar",
            JAR.toString(),
            "doctor",
            "--backend",
            "kubernetes",
            "--address",
            temporal.address(),
            "--kubeconfig",
            Testbed.DIR.resolve("kubeconfig").toString(),
            "--as",
            "system:serviceaccount:" + syllabus.ns + ":syllabus-worker",
            "--k8s-namespace",
            syllabus.ns);
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(Testbed.REPO.toFile()).redirectErrorStream(true);
    builder.environment().put("SYLLABUS_HOME", home.toString());
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), out);
    List<String> cluster = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.matches("(ok|FAIL|skip) +(cluster|namespace|permission|artifacts).*")) {
        cluster.add(line);
      }
    }
    return new Result(p.exitValue(), cluster, out);
  }

  @Test
  void theRoleFromDeployGivesTheWorkerEveryPermissionItNeeds() throws Exception {
    syllabus = new Backend("doctor", artifacts);
    temporal = EmbeddedTemporal.start(0);
    Result result = doctor();
    assertEquals(0, result.exitCode(), result.out());
    List<String> lines = result.lines();
    assertTrue(lines.get(0).startsWith("ok   cluster: https://127.0.0.1:"), lines.get(0));
    assertTrue(lines.get(0).contains("Kubernetes v1.37.2"), lines.get(0));
    // A ServiceAccount bound to one namespace may not read the namespace object itself.
    assertTrue(lines.get(1).startsWith("skip namespace: this identity may not read"), lines.get(1));
    assertEquals(
        List.of(
            "ok   permission pods: get, list, watch",
            "ok   permission pods/log: get",
            "ok   permission configmaps: create, get, delete",
            "ok   permission services: create, get, delete",
            "ok   permission persistentvolumeclaims: get",
            "ok   permission deployments.apps: create, get, list, watch, patch, delete",
            "ok   permission statefulsets.apps: create, get, list, watch, patch, delete",
            "ok   permission jobs.batch: create, get, list, watch, patch, delete",
            "ok   permission endpointslices.discovery.k8s.io: get, list, watch",
            "ok   permission workloads.kueue.x-k8s.io: get, list, watch, patch"),
        lines.subList(2, 12));
    assertTrue(
        lines.get(12).startsWith("ok   artifacts claim: syllabus-artifacts is Bound (1Ti"),
        lines.get(12));
  }

  @Test
  void aVerbMissingFromTheRoleIsNamed() throws Exception {
    syllabus = new Backend("doctor", artifacts);
    temporal = EmbeddedTemporal.start(0);
    var roles = syllabus.kube().rbac().roles().inNamespace(syllabus.ns);
    Role role = roles.withName("syllabus-worker").get();
    for (PolicyRule rule : role.getRules()) {
      if (rule.getResources().contains("jobs")) {
        rule.setVerbs(new ArrayList<>(rule.getVerbs()));
        rule.getVerbs().remove("patch");
      }
    }
    roles.resource(role).update();
    Result result = doctor();
    assertEquals(1, result.exitCode(), result.out());
    assertTrue(
        result
            .lines()
            .contains(
                "FAIL permission jobs.batch: missing patch in namespace "
                    + syllabus.ns
                    + "; needed to run the phase's training job, and suspend it on pause; grant them"
                    + " in the worker's Role (deploy/)"),
        String.join("\n", result.lines()));
  }
}
