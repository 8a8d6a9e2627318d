package dev.syllabus.testbed;

import static dev.syllabus.testbed.PhasesIT.recipe;
import static dev.syllabus.testbed.PhasesIT.sft;
import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.recipe.Deadlines;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What fails a phase at once on a real cluster, with the reason a person can act on, without
 * retrying what would fail the same way, and with its GPUs freed: an image the registry does not
 * have, more GPUs than any node has, a container over its memory limit, an artifact claim that is
 * missing. And what does not: a pod that waits for GPUs others hold waits, up to the recipe's
 * capacity deadline.
 */
@Timeout(600)
class FailuresIT {
  private static final Duration A_WHILE = Duration.ofMinutes(3);

  @TempDir Path artifacts;
  private Backend syllabus;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
  }

  @Test
  void anImageTheRegistryDoesNotHaveFailsThePhaseAtOnceWithoutRetrying() {
    syllabus = new Backend("image", artifacts);
    syllabus.start("i1", recipe(100, sft(1.0).image("ghcr.io/exmaple/axolotl:0.9").retries(3)));
    String message = syllabus.failure("i1");
    assertTrue(message.contains("cannot pull image \"ghcr.io/exmaple/axolotl:0.9\""), message);
    assertTrue(message.contains("ImagePullBackOff"), message);
    assertEquals(1, syllabus.status("i1").phases().get(0).attempt(), "not retried");
    eventually(
        "its pod is gone (its GPUs are free)", A_WHILE, () -> syllabus.livePods("i1").isEmpty());
  }

  @Test
  void anInvalidImageNameIsNamed() {
    syllabus = new Backend("badname", artifacts);
    syllabus.start("v1", recipe(100, sft(1.0).image("ghcr.io/Example/UPPER:1")));
    String message = syllabus.failure("v1");
    assertTrue(message.contains("has an invalid image name \"ghcr.io/Example/UPPER:1\""), message);
    assertTrue(message.contains("InvalidImageName"), message);
  }

  @Test
  void moreGpusThanAnyNodeHasFailsThePhaseAtOnce() {
    syllabus = new Backend("toobig", artifacts);
    syllabus.start(
        "b1",
        recipe(
            100,
            sft(1.0)
                .resources(
                    "train", new WorkloadResources(Testbed.GPUS_PER_NODE + 1, "8", "64Gi"))));
    String message = syllabus.failure("b1");
    assertTrue(message.contains("more than any node of the cluster has"), message);
    assertTrue(message.contains("Insufficient nvidia.com/gpu"), message);
    assertEquals(1, syllabus.status("b1").phases().get(0).attempt(), "not retried");
    eventually("its pod is gone", A_WHILE, () -> syllabus.livePods("b1").isEmpty());
  }

  @Test
  void aPodWaitingForGpusOthersHoldWaitsUntilTheCapacityDeadline() {
    syllabus = new Backend("busy", artifacts);
    // Someone else's Job holds every GPU of the node.
    syllabus.start(
        "hold",
        recipe(
            100_000,
            sft(1.0)
                .resources("train", new WorkloadResources(Testbed.GPUS_PER_NODE, "8", "64Gi"))));
    eventually("the other phase's pod runs", A_WHILE, () -> syllabus.podRuns("hold"));
    syllabus.start(
        "w1",
        recipe(
            100,
            sft(1.0)
                .resources("train", new WorkloadResources(1, "8", "64Gi"))
                .deadlines(new Deadlines(Deadlines.DEFAULTS.readyMillis(), 5_000))));
    eventually(
        "the phase waits for capacity",
        A_WHILE,
        () -> {
          PhaseStatus p = syllabus.phase("w1", 0);
          return p.state() == PhaseState.PENDING
              && p.message() != null
              && p.message().startsWith("waiting for capacity: pod ")
              && p.message().contains("Insufficient nvidia.com/gpu");
        });
    String message = syllabus.failure("w1");
    assertTrue(message.contains("found no room in the cluster within 5s"), message);
    syllabus.run("hold").skip(null);
  }

  @Test
  void aContainerOverItsMemoryLimitIsNamedWithTheLimit() {
    syllabus = new Backend("oom", artifacts);
    syllabus.start(
        "o1",
        recipe(100, sft(1.0).resources("train", new WorkloadResources(2, "8", "4Mi")).retries(2)));
    String message = syllabus.failure("o1");
    assertTrue(message.contains("ran out of memory (OOMKilled, exit code 137"), message);
    assertTrue(message.contains("its memory limit is 4Mi"), message);
    assertEquals(1, syllabus.status("o1").phases().get(0).attempt(), "not retried");
  }

  @Test
  void aMissingArtifactClaimIsASetUpErrorNamedAtOnce() {
    syllabus = new Backend("noclaim", artifacts);
    syllabus
        .kube()
        .persistentVolumeClaims()
        .inNamespace(syllabus.ns)
        .withName("syllabus-artifacts")
        .delete();
    eventually(
        "the claim is gone",
        A_WHILE,
        () ->
            syllabus
                    .kube()
                    .persistentVolumeClaims()
                    .inNamespace(syllabus.ns)
                    .withName("syllabus-artifacts")
                    .get()
                == null);
    syllabus.start("n1", recipe(100, sft(1.0)));
    String message = syllabus.failure("n1");
    assertTrue(message.contains("PersistentVolumeClaim syllabus-artifacts"), message);
    assertTrue(message.contains("does not exist"), message);
    assertTrue(!message.contains(". not found"), "no stray words from the scheduler: " + message);
  }

  @Test
  void anUnboundArtifactClaimIsASetUpErrorNamedAtOnce() {
    syllabus = new Backend("unbound", artifacts);
    var kube = syllabus.kube();
    kube.persistentVolumeClaims().inNamespace(syllabus.ns).withName("syllabus-artifacts").delete();
    eventually(
        "the claim is gone",
        A_WHILE,
        () ->
            kube.persistentVolumeClaims()
                    .inNamespace(syllabus.ns)
                    .withName("syllabus-artifacts")
                    .get()
                == null);
    // A claim no volume is bound to: as on a cluster without a provisioner for its class.
    kube.persistentVolumeClaims()
        .inNamespace(syllabus.ns)
        .resource(
            new io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("syllabus-artifacts")
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteMany")
                .withStorageClassName("nfs-that-is-not-there")
                .withNewResources()
                .addToRequests("storage", new io.fabric8.kubernetes.api.model.Quantity("1Ti"))
                .endResources()
                .endSpec()
                .build())
        .create();
    syllabus.start("u1", recipe(100, sft(1.0)));
    String message = syllabus.failure("u1");
    assertTrue(message.contains("PersistentVolumeClaim syllabus-artifacts"), message);
    assertTrue(message.contains("is not bound"), message);
    assertTrue(!message.contains(". not found"), "no stray words from the scheduler: " + message);
  }
}
