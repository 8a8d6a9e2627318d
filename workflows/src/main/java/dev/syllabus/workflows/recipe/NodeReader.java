package dev.syllabus.workflows.recipe;

import dev.syllabus.workflows.recipe.SourceMap.Location;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Typed access to YAML nodes for {@link RecipeBinder}: each read records where the field came from
 * in the {@link SourceMap}, and each value of the wrong kind becomes a {@link Problem} naming its
 * file and line (or the {@code --set} that gave it) instead of an exception, so that one load
 * reports every problem.
 */
final class NodeReader {
  private final String source;
  private final List<Problem> problems = new ArrayList<>();
  private final SourceMap sources;
  private final Map<Node, String> setBy;
  private final Set<String> misspelled = new HashSet<>();
  private int nodesSeen;

  /**
   * @param setBy the nodes a {@code --set} put in the tree, each with its label (see {@link
   *     Overrides#setBy})
   */
  NodeReader(String source, Map<Node, String> setBy) {
    this.source = source;
    this.sources = new SourceMap(source);
    this.setBy = setBy;
  }

  List<Problem> problems() {
    return problems;
  }

  SourceMap sources() {
    return sources;
  }

  /** Whether a key reported as unknown was probably meant to be {@code path}. */
  boolean misspelled(String path) {
    return misspelled.contains(path);
  }

  /**
   * The fields of a mapping by key; reports unknown keys (with a suggestion), duplicate keys and
   * missing required keys. Null when {@code node} is not a mapping.
   */
  Map<String, Node> fields(Node node, String path, Set<String> allowed, List<String> required) {
    MappingNode map = mapping(node, path.isEmpty() ? "recipe" : path);
    if (map == null) {
      return null;
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : map.getValue()) {
      String key = key(t, path);
      if (key == null) {
        continue;
      }
      String keyPath = path.isEmpty() ? key : path + "." + key;
      if (!allowed.contains(key)) {
        problem(t.getKeyNode(), keyPath, DidYouMean.unknownKey(key, allowed));
        String guess = DidYouMean.closest(key, allowed);
        if (guess != null) {
          misspelled.add(path.isEmpty() ? guess : path + "." + guess);
        }
        continue;
      }
      if (out.containsKey(key)) {
        problem(
            t.getKeyNode(),
            keyPath,
            "duplicate key (first given at line " + line(out.get(key)) + ")");
        continue;
      }
      record(keyPath, t.getKeyNode());
      out.put(key, t.getValueNode());
    }
    for (String key : required) {
      // A misspelled key was reported with its suggestion; saying it is missing repeats that.
      if (!out.containsKey(key) && !misspelled.contains(path.isEmpty() ? key : path + "." + key)) {
        problem(
            node, path.isEmpty() ? key : path + "." + key, "missing required key '" + key + "'");
      }
    }
    return out;
  }

  /** The key of a mapping entry, or null (reported) when it is not a scalar. */
  String key(NodeTuple t, String path) {
    if (t.getKeyNode() instanceof ScalarNode k) {
      return k.getValue();
    }
    problem(t.getKeyNode(), path, "keys must be plain words");
    return null;
  }

  MappingNode mapping(Node node, String path) {
    return collection(node, path, MappingNode.class, "a mapping (key: value lines)");
  }

  SequenceNode sequence(Node node, String path) {
    return collection(node, path, SequenceNode.class, "a list (lines starting with '- ')");
  }

  /** {@code node} as a mapping or list; anything else is reported as "expected …, got …". */
  private <T extends Node> T collection(Node node, String path, Class<T> kind, String expected) {
    count(node, path);
    if (kind.isInstance(node)) {
      record(path, node);
      return kind.cast(node);
    }
    problem(node, path, "expected " + expected + ", got " + describe(node));
    return null;
  }

  String string(Node node, String path) {
    return node == null ? null : scalar(node, path, Scalars::text, "text");
  }

  Long wholeNumber(Node node, String path) {
    return node == null ? null : scalar(node, path, Scalars::wholeNumber, "a whole number");
  }

  Double number(Node node, String path) {
    return node == null ? null : scalar(node, path, Scalars::number, "a number");
  }

  Boolean bool(Node node, String path) {
    return scalar(node, path, Scalars::bool, "true or false");
  }

  /** A Kubernetes quantity as text: {@code 32}, {@code 0.5}, {@code 500m}, {@code 1600Gi}. */
  String quantity(Node node, String path) {
    return scalar(node, path, Scalars::text, "a quantity such as 4, 500m or 16Gi");
  }

  /**
   * The value of a scalar as {@code rule} reads it; anything the rule does not accept (null, a
   * mapping or a list included) is reported as "expected {@code expected}, got …".
   */
  private <T> T scalar(Node node, String path, Function<ScalarNode, T> rule, String expected) {
    count(node, path);
    record(path, node);
    T value = node instanceof ScalarNode s ? rule.apply(s) : null;
    if (value == null) {
      problem(node, path, "expected " + expected + ", got " + describe(node));
    }
    return value;
  }

  /** Plain Java values for the framework's own keys: maps, lists, strings, numbers, booleans. */
  Object plain(Node node, String path, int depth) {
    count(node, path);
    record(path, node);
    if (depth > SafeYaml.MAX_DEPTH) {
      problem(node, path, "nested too deeply (more than " + SafeYaml.MAX_DEPTH + " levels)");
      return null;
    }
    if (node instanceof ScalarNode s) {
      return Scalars.value(s);
    }
    if (node instanceof SequenceNode seq) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < seq.getValue().size(); i++) {
        out.add(plain(seq.getValue().get(i), path + "[" + i + "]", depth + 1));
      }
      return out;
    }
    MappingNode map = (MappingNode) node;
    Map<String, Object> out = new LinkedHashMap<>();
    for (NodeTuple t : map.getValue()) {
      String key = key(t, path);
      if (key == null) {
        continue;
      }
      if (out.containsKey(key)) {
        problem(t.getKeyNode(), path + "." + key, "duplicate key");
        continue;
      }
      out.put(key, plain(t.getValueNode(), path + "." + key, depth + 1));
    }
    return out;
  }

  /** Records a problem at {@code node}'s line, or at {@code path}'s when there is no node. */
  void problem(Node node, String path, String message) {
    Location at = node != null ? location(node) : sources.locate(path);
    problems.add(new Problem(at.source(), at.line(), path, message));
  }

  /**
   * Counts a node read; an alias bomb is reported once, then stops the walk. The limit holds even
   * without overrides, when aliases are not copied but each alias is still read again.
   */
  private void count(Node node, String path) {
    if (++nodesSeen == SafeYaml.MAX_NODES) {
      problems.add(SafeYaml.tooManyNodes(source));
    }
    if (nodesSeen > SafeYaml.MAX_NODES) {
      throw new SafeYaml.TooLarge();
    }
  }

  private void record(String path, Node node) {
    if (node != null && !path.isEmpty()) {
      sources.put(path, location(node));
    }
  }

  private Location location(Node node) {
    String label = setBy.get(node);
    if (label != null) {
      return new Location(label, 0);
    }
    return new Location(source, line(node));
  }

  private static int line(Node node) {
    return node != null && node.getStartMark() != null ? node.getStartMark().getLine() + 1 : 0;
  }

  private static String describe(Node node) {
    if (node == null) {
      return "nothing";
    }
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    ScalarNode s = (ScalarNode) node;
    if (s.getTag().equals(Tag.NULL)) {
      return "nothing";
    }
    String v = s.getValue();
    return "'" + (v.length() > 40 ? v.substring(0, 40) + "…" : v) + "'";
  }
}
