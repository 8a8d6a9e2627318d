package dev.syllabus.activities.local;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.RenderedPhase;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the local backend runs a rendered phase: the training Job's first container, as a local
 * process. No container and no shell: the command and its arguments are passed as they are, with
 * the paths the container would see mapped onto local folders.
 *
 * <p>Volumes map as follows: {@code syllabus-artifacts} to the artifact store, {@code
 * syllabus-config} and other rendered ConfigMaps to folders holding their files, {@code emptyDir}
 * to scratch folders, and the volumes listed in the Job's {@value #LOCAL_VOLUMES} annotation
 * ({@code name=path,…}, paths relative to the repository) to those folders.
 *
 * @param command the executable and its arguments
 * @param env the environment the container would get (without values from Secrets)
 * @param workingDir where the process starts
 * @param maxSteps the steps the phase trains, from the job contract
 * @param notes what could not be mapped and was left out, for the job's log
 */
public record LocalLaunch(
    List<String> command,
    Map<String, String> env,
    String workingDir,
    long maxSteps,
    List<String> notes) {

  public static final String LOCAL_VOLUMES = "syllabus.dev/local-volumes";

  /**
   * Maps {@code rendered} onto this machine, writing its ConfigMaps' files under {@code jobDir}.
   *
   * @throws IllegalArgumentException when something cannot be mapped (a volume kind the local
   *     backend does not know, a Job without containers, a trainer on several nodes)
   */
  public static LocalLaunch prepare(
      RenderedPhase rendered, Path storeRoot, Path repoRoot, Path jobDir) {
    Job job = null;
    Map<String, ConfigMap> configMaps = new LinkedHashMap<>();
    for (Manifest manifest : rendered.manifests()) {
      Object object = Kubeconfigs.SERIALIZATION.unmarshal(manifest.yaml());
      if (object instanceof Job j && (job == null || Renderer.TRAIN_ROLE.equals(manifest.role()))) {
        job = j;
      } else if (object instanceof ConfigMap cm) {
        configMaps.put(cm.getMetadata().getName(), cm);
      }
    }
    if (job == null) {
      throw new IllegalArgumentException(
          "phase " + rendered.job().phase() + " renders no Job to run locally");
    }
    Integer completions = job.getSpec().getCompletions();
    if ("Indexed".equals(job.getSpec().getCompletionMode())
        && completions != null
        && completions > 1) {
      throw new IllegalArgumentException(
          "phase "
              + rendered.job().phase()
              + " asks for "
              + completions
              + " nodes (resources.train.nodes): the local backend runs one process; use the"
              + " kubernetes backend");
    }
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    if (pod.getContainers() == null || pod.getContainers().isEmpty()) {
      throw new IllegalArgumentException(
          "Job " + job.getMetadata().getName() + " has no containers");
    }
    Container main = pod.getContainers().get(0);
    Map<String, String> localVolumes = parseLocalVolumes(job.getMetadata().getAnnotations());
    List<String> notes = new ArrayList<>();

    Map<String, Path> volumeDirs = new LinkedHashMap<>();
    List<Volume> volumes = pod.getVolumes() == null ? List.of() : pod.getVolumes();
    for (Volume volume : volumes) {
      String name = volume.getName();
      if (Renderer.ARTIFACTS_VOLUME.equals(name)) {
        volumeDirs.put(name, storeRoot);
      } else if (localVolumes.containsKey(name)) {
        volumeDirs.put(name, repoRoot.resolve(localVolumes.get(name)).normalize());
      } else if (volume.getConfigMap() != null
          && configMaps.containsKey(volume.getConfigMap().getName())) {
        Path dir = jobDir.resolve("volumes").resolve(name);
        writeFiles(configMaps.get(volume.getConfigMap().getName()), dir);
        volumeDirs.put(name, dir);
      } else if (volume.getEmptyDir() != null) {
        volumeDirs.put(name, jobDir.resolve("volumes").resolve(name));
      } else {
        throw new IllegalArgumentException(
            "the local backend cannot map volume '"
                + name
                + "' of Job "
                + job.getMetadata().getName()
                + "; list it in the "
                + LOCAL_VOLUMES
                + " annotation as "
                + name
                + "=<folder>");
      }
    }

    // Longest mount path first, so /mnt/a/b wins over /mnt/a.
    Map<String, Path> mounts = new LinkedHashMap<>();
    List<VolumeMount> volumeMounts =
        main.getVolumeMounts() == null ? List.of() : main.getVolumeMounts();
    volumeMounts.stream()
        .sorted(Comparator.comparingInt((VolumeMount m) -> m.getMountPath().length()).reversed())
        .forEach(
            m -> {
              Path dir = volumeDirs.get(m.getName());
              if (dir != null) {
                Path target =
                    m.getSubPath() == null || m.getSubPath().isEmpty()
                        ? dir
                        : dir.resolve(m.getSubPath());
                mounts.put(m.getMountPath().replaceAll("/+$", ""), target);
              }
            });
    for (Path dir : mounts.values()) {
      try {
        Files.createDirectories(Files.isRegularFile(dir) ? dir.getParent() : dir);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
      }
    }

    List<String> command = new ArrayList<>();
    if (main.getCommand() != null) {
      main.getCommand().forEach(c -> command.add(mapPath(c, mounts)));
    }
    if (main.getArgs() != null) {
      main.getArgs().forEach(a -> command.add(mapPath(a, mounts)));
    }
    if (command.isEmpty()) {
      throw new IllegalArgumentException(
          "container "
              + main.getName()
              + " of Job "
              + job.getMetadata().getName()
              + " has no command; the local backend runs the command, not the image's entrypoint");
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (main.getEnv() != null) {
      for (EnvVar var : main.getEnv()) {
        if (var.getValueFrom() != null) {
          notes.add(
              "left out "
                  + var.getName()
                  + ": it comes from a Secret or field the local backend does not have");
        } else {
          env.put(var.getName(), mapPath(var.getValue() == null ? "" : var.getValue(), mounts));
        }
      }
    }
    String workingDir =
        main.getWorkingDir() != null ? mapPath(main.getWorkingDir(), mounts) : jobDir.toString();
    long start = Long.parseLong(env.getOrDefault("SYLLABUS_STEP_START", "0"));
    long end = Long.parseLong(env.getOrDefault("SYLLABUS_STEP_END", "0"));
    notes.add(
        0,
        "image "
            + main.getImage()
            + " is not used: the local backend runs the command on this machine");
    return new LocalLaunch(command, env, workingDir, end - start, notes);
  }

  /** A container path with its mount path replaced by the local folder; other text unchanged. */
  static String mapPath(String value, Map<String, Path> mounts) {
    for (Map.Entry<String, Path> mount : mounts.entrySet()) {
      String prefix = mount.getKey();
      if (value.equals(prefix)) {
        return mount.getValue().toString();
      }
      if (value.startsWith(prefix + "/")) {
        return mount.getValue().resolve(value.substring(prefix.length() + 1)).toString();
      }
    }
    return value;
  }

  private static Map<String, String> parseLocalVolumes(Map<String, String> annotations) {
    Map<String, String> out = new LinkedHashMap<>();
    String spec = annotations == null ? null : annotations.get(LOCAL_VOLUMES);
    if (spec == null || spec.isBlank()) {
      return out;
    }
    for (String entry : spec.split(",")) {
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            LOCAL_VOLUMES + ": expected name=folder, got '" + entry.trim() + "'");
      }
      out.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    return out;
  }

  private static void writeFiles(ConfigMap configMap, Path dir) {
    try {
      Files.createDirectories(dir);
      if (configMap.getData() != null) {
        for (Map.Entry<String, String> file : configMap.getData().entrySet()) {
          Files.writeString(dir.resolve(file.getKey()), file.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    }
  }
}
