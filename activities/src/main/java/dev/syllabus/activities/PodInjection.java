package dev.syllabus.activities;

import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.WorkloadResources;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a phase changes in the pod templates of its Jobs, Deployments and StatefulSets: the labels,
 * the ConfigMap volumes (pointed at this attempt's ConfigMaps), the resources and image the recipe
 * gives the workload's role, and the environment (the job contract and the Service names).
 */
final class PodInjection {

  private PodInjection() {}

  /** The pod template of a Job, Deployment or StatefulSet; null for any other object. */
  static PodTemplateSpec podTemplate(HasMetadata object) {
    if (object instanceof Job job && job.getSpec() != null) {
      return job.getSpec().getTemplate();
    }
    if (object instanceof Deployment deployment && deployment.getSpec() != null) {
      return deployment.getSpec().getTemplate();
    }
    if (object instanceof StatefulSet set && set.getSpec() != null) {
      return set.getSpec().getTemplate();
    }
    return null;
  }

  /**
   * Injects the phase into {@code pod}, a template of an object of the workload role {@code role}
   * (null when the object has none); {@code rendezvous} is the trainer's on several nodes, null
   * otherwise.
   */
  static void inject(
      PodTemplateSpec pod,
      PhaseTask task,
      String role,
      FrameworkSettings settings,
      String configMapName,
      Map<String, String> labels,
      ObjectNames names,
      Rendezvous rendezvous) {
    if (pod.getMetadata() == null) {
      pod.setMetadata(new ObjectMeta());
    }
    pod.getMetadata().setLabels(PhaseLabels.merged(pod.getMetadata().getLabels(), labels));
    if (role != null) {
      // The pods say which workload they run, so that `syllabus logs --workload` finds them.
      pod.getMetadata().getLabels().putIfAbsent(Kubeconfigs.ROLE_LABEL, role);
    }
    List<Volume> volumes =
        pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes();
    for (Volume volume : volumes) {
      if (volume.getConfigMap() == null) {
        continue;
      }
      if (Renderer.CONFIG_VOLUME.equals(volume.getName())) {
        volume.getConfigMap().setName(configMapName);
      } else {
        String renamedTo = names.newName("ConfigMap", volume.getConfigMap().getName());
        if (renamedTo != null) {
          volume.getConfigMap().setName(renamedTo);
        }
      }
    }
    List<Container> containers = pod.getSpec().getContainers();
    if (containers == null || containers.isEmpty()) {
      return;
    }
    Container main = containers.get(0);
    Phase phase = task.phase();
    WorkloadResources wanted = role == null ? null : phase.resources().get(role);
    if (wanted != null) {
      main.setResources(resources(main.getResources(), wanted));
    }
    if (Renderer.TRAIN_ROLE.equals(role) && phase.image() != null) {
      main.setImage(phase.image());
    }
    Map<String, String> env = new LinkedHashMap<>(ContractEnv.of(task, main, settings));
    env.putAll(names.serviceEnv());
    List<EnvVar> injected = new ArrayList<>();
    env.forEach((k, v) -> injected.add(new EnvVar(k, v, null)));
    if (rendezvous != null) {
      injected.addAll(rendezvous.env());
    }
    for (Container container : containers) {
      container.setEnv(withEnv(container.getEnv(), injected));
    }
  }

  /**
   * The recipe's resources for the role over the manifest's own: GPUs and memory are requested and
   * limited, CPU only requested.
   */
  private static ResourceRequirements resources(
      ResourceRequirements current, WorkloadResources wanted) {
    ResourceRequirements r = current == null ? new ResourceRequirements() : current;
    Map<String, Quantity> requests =
        r.getRequests() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(r.getRequests());
    Map<String, Quantity> limits =
        r.getLimits() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(r.getLimits());
    if (wanted.gpu() != null) {
      requests.put(Renderer.GPU, new Quantity(Integer.toString(wanted.gpu())));
      limits.put(Renderer.GPU, new Quantity(Integer.toString(wanted.gpu())));
    }
    if (wanted.cpu() != null) {
      requests.put("cpu", new Quantity(wanted.cpu()));
    }
    if (wanted.memory() != null) {
      requests.put("memory", new Quantity(wanted.memory()));
      limits.put("memory", new Quantity(wanted.memory()));
    }
    r.setRequests(requests);
    r.setLimits(limits.isEmpty() ? null : limits);
    return r;
  }

  /**
   * The injected variables first, so that the manifest's own can use them as {@code $(NAME)}; a
   * manifest's variable of the same name gives way.
   */
  private static List<EnvVar> withEnv(List<EnvVar> current, List<EnvVar> injected) {
    List<EnvVar> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (EnvVar var : injected) {
      out.add(new EnvVarBuilder(var).build());
      names.add(var.getName());
    }
    if (current != null) {
      for (EnvVar var : current) {
        if (!names.contains(var.getName())) {
          out.add(var);
        }
      }
    }
    return out;
  }
}
