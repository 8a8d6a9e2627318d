package dev.syllabus.activities.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The container images of a phase, from the manifests its latest attempt was rendered to ({@code
 * <phase folder>/rendered.yaml}, written by {@code PhaseCore.render}): {@code {"job/trainer": "…",
 * "deployment/vllm": "…"}}, keyed by the object's kind and the container's name.
 */
public final class PhaseImages {

  /** The file in a phase's folder that holds its latest rendered manifests. */
  public static final String FILE_NAME = "rendered.yaml";

  private static final YAMLMapper YAML = new YAMLMapper();

  private PhaseImages() {}

  /** The images in {@code file}; null when there is no such file or it cannot be read. */
  static Map<String, String> read(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    Map<String, String> images = new LinkedHashMap<>();
    try (MappingIterator<JsonNode> documents =
        YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (documents.hasNext()) {
        JsonNode object = documents.next();
        if (object == null || !object.isObject()) {
          continue;
        }
        String kind = object.path("kind").asText("").toLowerCase();
        JsonNode pod = object.path("spec").path("template").path("spec");
        if (pod.isMissingNode()) {
          pod = object.path("spec");
        }
        for (JsonNode container : pod.path("containers")) {
          if (container.hasNonNull("image")) {
            images.put(
                kind + "/" + container.path("name").asText(), container.get("image").asText());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return images;
  }
}
