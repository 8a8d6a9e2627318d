package dev.syllabus.activities;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Phase;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The names a phase's objects take for one attempt, so that runs, phases and attempts never collide
 * in a namespace: the Job takes the attempt's name, every other object gets it as a prefix. The
 * manifests refer to each other by their own names; these maps turn those into the new ones.
 *
 * @param renamed the new name of each object, by {@code Kind/name} in the manifests
 * @param services the new name of each Service, by its name in the manifests, in manifest order
 */
record ObjectNames(Map<String, String> renamed, Map<String, String> services) {

  /** Names the {@code objects} of {@code phase}; two objects of one kind may not share a name. */
  static ObjectNames of(JobRef job, Phase phase, List<HasMetadata> objects) {
    Map<String, String> renamed = new HashMap<>();
    Map<String, String> services = new LinkedHashMap<>();
    for (HasMetadata object : objects) {
      String original = object.getMetadata().getName();
      String name =
          object instanceof Job ? job.name() : Names.dnsLabel(job.name() + "-" + original);
      if (renamed.put(object.getKind() + "/" + original, name) != null) {
        throw new IllegalArgumentException(
            phase.frameworkWorkload()
                + " has two objects named "
                + object.getKind()
                + "/"
                + original);
      }
      if (object instanceof Service) {
        services.put(original, name);
      }
    }
    return new ObjectNames(renamed, services);
  }

  /** The new name of the object {@code kind/original}, or null when the manifests have none. */
  String newName(String kind, String original) {
    return renamed.get(kind + "/" + original);
  }

  /**
   * Every Service's new name, as {@link #serviceEnvName} variables: how a container finds the
   * servers of its attempt.
   */
  Map<String, String> serviceEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    services.forEach((original, name) -> env.put(serviceEnvName(original), name));
    return env;
  }

  /** {@code SYLLABUS_SERVICE_VLLM} for a Service named {@code vllm} in the manifests. */
  static String serviceEnvName(String originalServiceName) {
    return "SYLLABUS_SERVICE_" + originalServiceName.toUpperCase(Locale.ROOT).replace('-', '_');
  }
}
