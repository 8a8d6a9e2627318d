package dev.syllabus.activities;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The job contract's environment: the {@code SYLLABUS_*} variables that tell a trainer its run,
 * phase, step range, input model and optimizer, output folder and config file. Every container of a
 * phase gets them, and the framework config repeats the paths under the framework's own keys.
 */
final class ContractEnv {

  private ContractEnv() {}

  /**
   * The job contract's environment. Paths are as the job sees them: under the mount path of the
   * {@value Renderer#ARTIFACTS_VOLUME} and {@value Renderer#CONFIG_VOLUME} volumes of its main
   * container.
   */
  static Map<String, String> of(PhaseTask task, Container main, FrameworkSettings settings) {
    String store = mountPath(main, Renderer.ARTIFACTS_VOLUME);
    String config = mountPath(main, Renderer.CONFIG_VOLUME);
    Phase phase = task.phase();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SYLLABUS_RUN_ID", task.runId());
    env.put("SYLLABUS_PHASE", phase.name());
    env.put("SYLLABUS_PHASE_INDEX", Integer.toString(task.index()));
    env.put("SYLLABUS_STEP_START", Long.toString(task.steps().start()));
    env.put("SYLLABUS_STEP_END", Long.toString(task.steps().end()));
    env.put("SYLLABUS_TOTAL_STEPS", Long.toString(task.totalSteps()));
    env.put("SYLLABUS_INPUT_MODEL", location(task.input().model(), store));
    boolean carry = phase.optimizer().state() == OptimizerState.CARRY;
    env.put("SYLLABUS_INPUT_OPTIMIZER", carry ? location(task.input().optimizer(), store) : "");
    if (store != null) {
      env.put(
          "SYLLABUS_OUTPUT_DIR",
          store + "/" + Names.phaseFolder(task.runId(), task.index(), phase.name()));
    }
    if (config != null) {
      env.put("SYLLABUS_CONFIG", config + "/" + settings.configFile());
    }
    if (phase.pullLatest()) {
      env.put("PULL_LATEST", "1");
    }
    return env;
  }

  /** An artifact as the job reads it: its path in the mounted store, or its URI when external. */
  private static String location(ArtifactRef ref, String store) {
    if (ref == null) {
      return "";
    }
    if (ref.isExternal() || store == null) {
      return ref.uri();
    }
    return store + "/" + ref.path();
  }

  private static String mountPath(Container container, String volume) {
    if (container == null || container.getVolumeMounts() == null) {
      return null;
    }
    for (VolumeMount mount : container.getVolumeMounts()) {
      if (volume.equals(mount.getName())) {
        return mount.getMountPath().replaceAll("/+$", "");
      }
    }
    return null;
  }
}
