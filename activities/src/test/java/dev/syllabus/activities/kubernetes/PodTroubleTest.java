package dev.syllabus.activities.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

/**
 * What the backend makes of a pod the scheduler cannot place. The messages are kube-scheduler
 * v1.37's own, as the testbed's scheduler wrote them.
 */
class PodTroubleTest {

  private static Pod unschedulable(String message) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("r-0-sft-1-abcde")
        .withNamespace("ml")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("trainer")
        .endContainer()
        .addNewVolume()
        .withName("syllabus-artifacts")
        .withNewPersistentVolumeClaim()
        .withClaimName("syllabus-artifacts")
        .endPersistentVolumeClaim()
        .endVolume()
        .endSpec()
        .withNewStatus()
        .withPhase("Pending")
        .addNewCondition()
        .withType("PodScheduled")
        .withStatus("False")
        .withReason("Unschedulable")
        .withMessage(message)
        .endCondition()
        .endStatus()
        .build();
  }

  @Test
  void aPodWaitingForGpusOthersHoldWaitsForCapacity() {
    PodTrouble trouble =
        PodTrouble.of(
            unschedulable(
                "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are"
                    + " available: 1 No preemption victims found for incoming pod."));
    assertTrue(trouble.capacity());
    assertFalse(trouble.permanent());
    assertTrue(trouble.message().startsWith("waiting for capacity: pod r-0-sft-1-abcde: 0/1"));
  }

  @Test
  void aPodLargerThanEveryNodeFailsAtOnce() {
    PodTrouble trouble =
        PodTrouble.of(
            unschedulable(
                "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are"
                    + " available: 2 Preemption is not helpful for scheduling."));
    assertTrue(trouble.permanent());
    assertEquals(
        "pod r-0-sft-1-abcde asks for more than any node of the cluster has: 2 Insufficient"
            + " nvidia.com/gpu (no node could ever hold it; lower the recipe's resources or add"
            + " larger nodes)",
        trouble.message());
  }

  @Test
  void aPodLargerThanSomeNodesButNotAllWaits() {
    PodTrouble trouble =
        PodTrouble.of(
            unschedulable(
                "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are"
                    + " available: 1 No preemption victims found for incoming pod, 1 Preemption is"
                    + " not helpful for scheduling."));
    assertTrue(trouble.capacity());
    assertFalse(trouble.permanent());
  }

  @Test
  void untoleratedTaintsWaitEvenWhenPreemptionCannotHelp() {
    PodTrouble trouble =
        PodTrouble.of(
            unschedulable(
                "0/1 nodes are available: 1 node(s) had untolerated taint"
                    + " {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1"
                    + " Preemption is not helpful for scheduling."));
    assertTrue(trouble.capacity(), "a node that is not ready may be soon");
  }

  @Test
  void aMissingClaimIsNamedWithoutTheSchedulersStrayWords() {
    PodTrouble trouble =
        PodTrouble.of(
            unschedulable(
                "0/1 nodes are available: persistentvolumeclaim \"syllabus-artifacts\" not found."
                    + " not found"));
    assertTrue(trouble.permanent());
    assertEquals(
        "pod r-0-sft-1-abcde needs PersistentVolumeClaim syllabus-artifacts, which does not exist"
            + " in namespace ml (create it: deploy/pvc.yaml)",
        trouble.message());
  }

  @Test
  void anUnboundClaimIsNamed() {
    PodTrouble trouble =
        PodTrouble.of(
            unschedulable(
                "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not"
                    + " found"));
    assertTrue(trouble.permanent());
    assertEquals(
        "pod r-0-sft-1-abcde cannot be scheduled: PersistentVolumeClaim syllabus-artifacts is not"
            + " bound to a volume (does its storage class provision volumes? kubectl describe pvc"
            + " syllabus-artifacts)",
        trouble.message());
  }
}
