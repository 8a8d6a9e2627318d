package dev.syllabus.activities;

import dev.syllabus.workflows.recipe.Phase;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Repository files a framework's ConfigMap ships as its data, listed in its {@value
 * Renderer#FILES_ANNOTATION} annotation ({@code key=path,…}), so that a manifest can mount a script
 * kept beside it in the repository instead of pasting it into the YAML.
 */
final class ShippedFiles {

  private static final long MAX_CONFIG_MAP_BYTES = 1 << 20;

  private ShippedFiles() {}

  /**
   * Fills {@code configMap} with the files its annotation lists; nothing when it lists none.
   *
   * @param original the ConfigMap's name in the manifests, for the error messages
   */
  static void ship(ConfigMap configMap, String original, Phase phase, Kubeconfigs kubeconfigs) {
    Map<String, String> annotations = configMap.getMetadata().getAnnotations();
    String files = annotations == null ? null : annotations.get(Renderer.FILES_ANNOTATION);
    if (files == null || files.isBlank()) {
      return;
    }
    Map<String, String> data =
        configMap.getData() == null
            ? new LinkedHashMap<>()
            : new LinkedHashMap<>(configMap.getData());
    long size = 0;
    for (String entry : files.split(",")) {
      String spec = entry.strip();
      if (spec.isEmpty()) {
        continue;
      }
      int eq = spec.indexOf('=');
      String path = eq < 0 ? spec : spec.substring(eq + 1).strip();
      Path file = kubeconfigs.repoFile(path);
      String key = eq < 0 ? file.getFileName().toString() : spec.substring(0, eq).strip();
      try {
        String text = Files.readString(file);
        size += text.length();
        data.put(key, text);
      } catch (IOException e) {
        throw new IllegalArgumentException(
            phase.frameworkWorkload()
                + ": ConfigMap "
                + original
                + ": "
                + Renderer.FILES_ANNOTATION
                + ": cannot read "
                + path
                + " ("
                + e.getClass().getSimpleName()
                + ")");
      }
    }
    if (size > MAX_CONFIG_MAP_BYTES) {
      throw new IllegalArgumentException(
          phase.frameworkWorkload()
              + ": ConfigMap "
              + original
              + " would hold "
              + size
              + " bytes; a ConfigMap holds at most 1 MiB");
    }
    configMap.setData(data);
  }
}
