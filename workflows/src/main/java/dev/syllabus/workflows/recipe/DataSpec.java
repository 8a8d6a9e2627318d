package dev.syllabus.workflows.recipe;

import java.util.List;
import java.util.Map;

/**
 * The data a phase trains on. A phase without data inherits the previous phase's.
 *
 * @param datasets the framework's own dataset entries; each has at least a {@code path}
 */
public record DataSpec(List<Map<String, Object>> datasets) {

  public DataSpec {
    datasets = datasets == null ? List.of() : List.copyOf(datasets);
  }

  public static DataSpec of(String... paths) {
    return new DataSpec(
        java.util.Arrays.stream(paths).map(p -> Map.<String, Object>of("path", p)).toList());
  }
}
