package dev.syllabus.activities.kubernetes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A JSON merge patch (RFC 7386) of the few fields Syllabus changes on its own objects: annotations,
 * {@code spec.suspend}, {@code spec.replicas}, {@code spec.active}. Built as JSON, not as text, so
 * a reason with quotes or newlines needs no escaping by hand; an annotation set to null is removed.
 */
final class MergePatch {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectNode root = JSON.createObjectNode();

  /** Sets the annotation, or removes it when {@code value} is null. */
  MergePatch annotation(String key, String value) {
    ObjectNode annotations = root.withObject("/metadata/annotations");
    if (value == null) {
      annotations.putNull(key);
    } else {
      annotations.put(key, value);
    }
    return this;
  }

  MergePatch spec(String field, boolean value) {
    root.withObject("/spec").put(field, value);
    return this;
  }

  MergePatch spec(String field, int value) {
    root.withObject("/spec").put(field, value);
    return this;
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
