package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the player runs the pods of an Argo Workflow: their {@code main} container, unwrapped. */
class ArgoPodsTest {
  private static Pod pod(String label) {
    PodBuilder pod = new PodBuilder().withNewMetadata().withName("chain-step-1").endMetadata();
    if (label != null) {
      pod.editMetadata().addToLabels(label, "chain").endMetadata();
    }
    return pod.withNewSpec()
        .addNewContainer()
        .withName("wait")
        .withImage("quay.io/argoproj/argoexec:v3.7.18")
        .endContainer()
        .addNewContainer()
        .withName("main")
        .withImage("busybox:1.36")
        .endContainer()
        .endSpec()
        .build();
  }

  @Test
  void theMainContainerOfAnArgoPodRunsNotItsWaitSidecar() {
    assertEquals("main", PodLaunch.mainContainer(pod(PodLaunch.ARGO_WORKFLOW_LABEL)).getName());
  }

  @Test
  void anyOtherPodRunsItsFirstContainer() {
    assertEquals("wait", PodLaunch.mainContainer(pod("app")).getName());
  }

  @Test
  void theEmissaryWrapperIsDroppedFromAnArgoStepsCommand() {
    List<String> wrapped =
        List.of(
            "/var/run/argo/argoexec",
            "emissary",
            "--loglevel",
            "info",
            "--log-format",
            "text",
            "--gloglevel",
            "0",
            "--",
            "sh",
            "-c",
            "sleep 5");
    assertEquals(List.of("sh", "-c", "sleep 5"), PodLaunch.withoutArgoEmissary(wrapped));
  }

  @Test
  void aCommandWithoutTheEmissaryIsKeptAsItIs() {
    List<String> plain = List.of("sh", "-c", "echo -- done");
    assertEquals(plain, PodLaunch.withoutArgoEmissary(plain));
  }
}
