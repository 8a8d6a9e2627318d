package dev.syllabus.starter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where runs' recipes differ. Each resolved recipe is flattened into settings named by the paths
 * {@code --set} takes ({@code phases[1].optimizer.lr}), and a setting differs when the runs do not
 * all have the same value for it.
 */
final class RecipeDifferences {

  private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

  /**
   * One setting that differs.
   *
   * @param path the setting, e.g. {@code phases[1].optimizer.lr}
   * @param values its value in each run, in the order of the runs; null where a run's recipe does
   *     not have it
   */
  record Difference(String path, List<JsonNode> values) {
    Difference {
      values = Collections.unmodifiableList(new ArrayList<>(values));
    }
  }

  private RecipeDifferences() {}

  /** The settings that differ between {@code recipes}, in the order they appear in the recipes. */
  static List<Difference> between(List<JsonNode> recipes) {
    List<Map<String, JsonNode>> flat = recipes.stream().map(RecipeDifferences::flatten).toList();
    Set<String> paths = new LinkedHashSet<>();
    flat.forEach(settings -> paths.addAll(settings.keySet()));
    List<Difference> differences = new ArrayList<>();
    for (String path : paths) {
      List<JsonNode> values = new ArrayList<>();
      flat.forEach(settings -> values.add(settings.get(path)));
      if (values.stream().distinct().count() > 1) {
        differences.add(new Difference(path, values));
      }
    }
    return differences;
  }

  /**
   * Every setting of a recipe, path to value, in the recipe's order: one entry per scalar, empty
   * object and empty list. A recipe that is missing (an older record) has none.
   */
  static Map<String, JsonNode> flatten(JsonNode recipe) {
    Map<String, JsonNode> settings = new LinkedHashMap<>();
    if (recipe != null && !recipe.isMissingNode()) {
      flatten("", recipe, settings);
    }
    return settings;
  }

  private static void flatten(String path, JsonNode node, Map<String, JsonNode> settings) {
    if (node.isObject() && !node.isEmpty()) {
      for (Map.Entry<String, JsonNode> field : node.properties()) {
        flatten(child(path, field.getKey()), field.getValue(), settings);
      }
    } else if (node.isArray() && !node.isEmpty()) {
      for (int i = 0; i < node.size(); i++) {
        flatten(path + "[" + i + "]", node.get(i), settings);
      }
    } else {
      settings.put(path, node);
    }
  }

  /** {@code a.b}, or {@code a["b c"]} for a key that is not a plain name. */
  private static String child(String path, String key) {
    if (PLAIN_KEY.matcher(key).matches()) {
      return path.isEmpty() ? key : path + "." + key;
    }
    return path + "[" + TextNode.valueOf(key) + "]";
  }

  /** A value as people read it: text without quotes, "–" for a setting a recipe does not have. */
  static String shown(JsonNode value) {
    if (value == null) {
      return "–";
    }
    return value.isTextual() ? value.asText() : value.toString();
  }
}
