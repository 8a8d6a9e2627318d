package dev.syllabus.starter;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.WorkloadResources;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a framework's workload runs, read from its manifests: one entry per object that runs pods
 * (the training Job, the vLLM and rewards servers), with its image and GPUs, as the manifests give
 * them or as a recipe's phase sets them. For {@code syllabus recipes}, {@code frameworks}, {@code
 * info} and the pins of {@code export}.
 *
 * @param role the {@code syllabus.dev/role} label: {@code train}, {@code vllm}, {@code rewards}
 * @param kind Job, Deployment or StatefulSet
 * @param name the object's name in the manifests
 * @param image the image of its first container
 * @param gpus the GPUs its first container asks for (0 when none), on every node of a trainer that
 *     spans several
 */
record WorkloadObject(String role, String kind, String name, String image, int gpus) {

  /** A workload's pod-running objects as its manifests have them. */
  static List<WorkloadObject> of(Kubeconfigs kubeconfigs, String framework, String workload) {
    List<WorkloadObject> out = new ArrayList<>();
    for (HasMetadata object : kubeconfigs.manifests(framework, workload)) {
      PodTemplateSpec pod = Renderer.podTemplate(object);
      if (pod == null || pod.getSpec() == null || pod.getSpec().getContainers().isEmpty()) {
        continue;
      }
      Container first = pod.getSpec().getContainers().get(0);
      out.add(
          new WorkloadObject(
              Kubeconfigs.roleOf(object),
              object.getKind(),
              object.getMetadata().getName(),
              first.getImage(),
              gpusOf(first)));
    }
    out.sort(
        java.util.Comparator.comparing((WorkloadObject w) -> !"train".equals(w.role()))
            .thenComparing(w -> String.valueOf(w.role())));
    return out;
  }

  /** A phase's pod-running objects with the recipe's image and GPUs applied, as they would run. */
  static List<WorkloadObject> of(Kubeconfigs kubeconfigs, Phase phase) {
    List<WorkloadObject> out = new ArrayList<>();
    for (WorkloadObject w : of(kubeconfigs, phase.framework(), phase.workload())) {
      String image = "train".equals(w.role()) && phase.image() != null ? phase.image() : w.image();
      WorkloadResources asked = w.role() == null ? null : phase.resources().get(w.role());
      int gpus = asked != null && asked.gpu() != null ? asked.gpu() : w.gpus();
      if (asked != null && "Job".equals(w.kind())) {
        gpus *= asked.nodes(); // a trainer on several nodes: a pod of this many GPUs on each
      }
      out.add(new WorkloadObject(w.role(), w.kind(), w.name(), image, gpus));
    }
    return out;
  }

  /** The original names of the Services in a workload's folder (how its servers are reached). */
  static List<String> services(Kubeconfigs kubeconfigs, String framework, String workload) {
    return kubeconfigs.manifests(framework, workload).stream()
        .filter(o -> "Service".equals(o.getKind()))
        .map(o -> o.getMetadata().getName())
        .sorted()
        .toList();
  }

  /** The GPUs of all of {@code workloads}. */
  static int totalGpus(List<WorkloadObject> workloads) {
    return workloads.stream().mapToInt(WorkloadObject::gpus).sum();
  }

  private static int gpusOf(Container container) {
    if (container.getResources() == null) {
      return 0;
    }
    for (Map<String, Quantity> amounts :
        java.util.Arrays.asList(
            container.getResources().getLimits(), container.getResources().getRequests())) {
      if (amounts != null && amounts.containsKey("nvidia.com/gpu")) {
        try {
          return Integer.parseInt(amounts.get("nvidia.com/gpu").getAmount());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }
}
