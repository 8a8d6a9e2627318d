package dev.syllabus.workflows.recipe;

import java.util.HashMap;
import java.util.Map;

/**
 * Where each field of a loaded recipe came from, so that checks made after loading can still name
 * the file and line. A recipe built in code has an empty map and problems name only the field.
 */
public final class SourceMap {

  /** A place in a recipe file or on the command line. */
  public record Location(String source, int line) {}

  private final String defaultSource;
  private final Map<String, Location> locations = new HashMap<>();

  public SourceMap(String defaultSource) {
    this.defaultSource = defaultSource;
  }

  public static SourceMap none(String source) {
    return new SourceMap(source);
  }

  void put(String path, Location location) {
    locations.putIfAbsent(path, location);
  }

  /**
   * The location of {@code path}, or of its nearest recorded parent ({@code phases[1].until} falls
   * back to {@code phases[1]}).
   */
  public Location locate(String path) {
    String p = path;
    while (true) {
      Location found = locations.get(p);
      if (found != null) {
        return found;
      }
      int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) {
        return new Location(defaultSource, 0);
      }
      p = p.substring(0, cut);
    }
  }

  public Problem problem(String path, String message) {
    Location at = locate(path);
    return new Problem(at.source(), at.line(), path, message);
  }

  public String source() {
    return defaultSource;
  }
}
