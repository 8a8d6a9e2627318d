package dev.syllabus.workflows.recipe;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The {@code --set path=value} overrides of a command line, applied to a recipe's node tree before
 * it is bound. Every node a {@code --set} puts in the tree remembers it, so that a problem with
 * that value names the {@code --set} instead of a line of the file.
 */
final class Overrides {

  private final Map<Node, String> setBy = new IdentityHashMap<>();
  private final List<Problem> problems = new ArrayList<>();

  private Overrides() {}

  /**
   * Applies {@code overrides} to {@code root} in order; the tree must hold no shared nodes (see
   * {@link SafeYaml#unshare}).
   */
  static Overrides apply(Node root, List<String> overrides) {
    Overrides applied = new Overrides();
    for (String override : overrides) {
      applied.applyOne(root, override);
    }
    return applied;
  }

  /** The nodes put in the tree by a {@code --set}, each with its label {@code --set path=value}. */
  Map<Node, String> setBy() {
    return setBy;
  }

  /** The overrides that could not be applied; the tree is unusable when there are any. */
  List<Problem> problems() {
    return problems;
  }

  private void applyOne(Node root, String override) {
    String label = "--set " + override;
    int eq = override.indexOf('=');
    if (eq <= 0) {
      problems.add(new Problem(label, 0, "", "expected path=value, e.g. phases[0].until=0.5"));
      return;
    }
    String pathText = override.substring(0, eq).trim();
    String valueText = override.substring(eq + 1);
    List<String> segments = splitPath(pathText);
    if (segments == null) {
      problems.add(
          new Problem(
              label, 0, pathText, "cannot read this path; write it like phases[1].optimizer.lr"));
      return;
    }
    Node value;
    try {
      value = SafeYaml.yaml().compose(new StringReader(valueText));
    } catch (MarkedYAMLException e) {
      String why = SafeYaml.yamlProblem(e).replaceFirst("^invalid YAML: ", "");
      problems.add(new Problem(label, 0, pathText, "the value is not valid YAML: " + why));
      return;
    } catch (YAMLException e) {
      problems.add(
          new Problem(
              label,
              0,
              pathText,
              "the value is not valid YAML: " + SafeYaml.oneLine(e.getMessage())));
      return;
    }
    if (value == null) {
      value = new ScalarNode(Tag.NULL, "", null, null, DumperOptions.ScalarStyle.PLAIN);
    }
    markSetBy(value, label);
    Node current = root;
    StringBuilder walked = new StringBuilder();
    for (int i = 0; i < segments.size(); i++) {
      String segment = segments.get(i);
      boolean last = i == segments.size() - 1;
      if (segment.startsWith("[")) {
        String index = segment.substring(1, segment.length() - 1);
        walked.append(segment);
        if (!(current instanceof SequenceNode seq)) {
          problems.add(new Problem(label, 0, walked.toString(), "is not a list"));
          return;
        }
        int at = findItem(seq, index);
        if (at < 0) {
          problems.add(
              new Problem(
                  label,
                  0,
                  walked.toString(),
                  "no such item (the list has " + seq.getValue().size() + ")"));
          return;
        }
        if (last) {
          seq.getValue().set(at, value);
          return;
        }
        current = seq.getValue().get(at);
      } else {
        if (walked.length() > 0) {
          walked.append('.');
        }
        walked.append(segment);
        if (!(current instanceof MappingNode map)) {
          problems.add(new Problem(label, 0, walked.toString(), "the parent is not a mapping"));
          return;
        }
        NodeTuple found = null;
        int foundAt = -1;
        for (int j = 0; j < map.getValue().size(); j++) {
          NodeTuple t = map.getValue().get(j);
          if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(segment)) {
            found = t;
            foundAt = j;
          }
        }
        if (last) {
          ScalarNode key = plainScalar(segment);
          markSetBy(key, label);
          // The key is marked too: the whole field now comes from --set, so a problem found
          // with it later (by the validator, through the source map) names the --set.
          NodeTuple replacement = new NodeTuple(key, value);
          if (found != null) {
            map.getValue().set(foundAt, replacement);
          } else {
            map.getValue().add(replacement);
          }
          return;
        }
        if (found == null) {
          MappingNode created =
              new MappingNode(Tag.MAP, new ArrayList<>(), DumperOptions.FlowStyle.BLOCK);
          markSetBy(created, label);
          ScalarNode key = plainScalar(segment);
          markSetBy(key, label);
          map.getValue().add(new NodeTuple(key, created));
          current = created;
        } else {
          current = found.getValueNode();
        }
      }
    }
  }

  private static ScalarNode plainScalar(String value) {
    return new ScalarNode(Tag.STR, value, null, null, DumperOptions.ScalarStyle.PLAIN);
  }

  private void markSetBy(Node node, String label) {
    setBy.put(node, label);
    if (node instanceof MappingNode map) {
      for (NodeTuple t : map.getValue()) {
        markSetBy(t.getKeyNode(), label);
        markSetBy(t.getValueNode(), label);
      }
    } else if (node instanceof SequenceNode seq) {
      seq.getValue().forEach(n -> markSetBy(n, label));
    }
  }

  /** An item by index ({@code [1]}) or, in a list of mappings, by its name ({@code [grpo]}). */
  private static int findItem(SequenceNode seq, String index) {
    if (index.matches("\\d+")) {
      int i = Integer.parseInt(index);
      return i < seq.getValue().size() ? i : -1;
    }
    for (int i = 0; i < seq.getValue().size(); i++) {
      if (seq.getValue().get(i) instanceof MappingNode item) {
        for (NodeTuple t : item.getValue()) {
          if (t.getKeyNode() instanceof ScalarNode k
              && k.getValue().equals("name")
              && t.getValueNode() instanceof ScalarNode v
              && v.getValue().equals(index)) {
            return i;
          }
        }
      }
    }
    return -1;
  }

  /** {@code a.b[1].c} into {@code a, b, [1], c}; null when malformed. */
  static List<String> splitPath(String path) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < path.length()) {
      char c = path.charAt(i);
      if (c == '[') {
        int close = path.indexOf(']', i);
        if (close < 0 || close == i + 1) {
          return null;
        }
        out.add(path.substring(i, close + 1));
        i = close + 1;
      } else if (c == '.') {
        if (i == 0 || i == path.length() - 1) {
          return null;
        }
        i++;
      } else {
        int end = i;
        while (end < path.length() && path.charAt(end) != '.' && path.charAt(end) != '[') {
          end++;
        }
        out.add(path.substring(i, end));
        i = end;
      }
    }
    return out.isEmpty() ? null : out;
  }
}
