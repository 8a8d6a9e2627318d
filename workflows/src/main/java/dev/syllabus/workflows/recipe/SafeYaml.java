package dev.syllabus.workflows.recipe;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads recipe text into a YAML node tree within limits (size, aliases, nodes, nesting), so that a
 * hostile or broken file fails with one line a person can act on rather than exhausting the worker.
 */
final class SafeYaml {

  /** Enough for a few shared blocks; far too few for an alias bomb. */
  static final int MAX_ALIASES = 20;

  static final int MAX_NODES = 100_000;
  static final int MAX_DEPTH = 64;

  private SafeYaml() {}

  /** The node tree of {@code text}, or null when the text holds no document (or only null). */
  static Node compose(String source, String text) throws RecipeException {
    try {
      Node node = yaml().compose(new StringReader(text));
      if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.NULL)) {
        return null;
      }
      return node;
    } catch (MarkedYAMLException e) {
      throw new RecipeException(new Problem(source, errorLine(e), "", yamlProblem(e)));
    } catch (YAMLException e) {
      String message = oneLine(e.getMessage());
      if (message.contains("aliases")) {
        message =
            "too many YAML aliases (at most "
                + MAX_ALIASES
                + " are allowed in a recipe; this looks like an alias bomb)";
      } else {
        message = "invalid YAML: " + message;
      }
      throw new RecipeException(new Problem(source, 0, "", message));
    }
  }

  /**
   * A copy of the tree in which no node appears twice (aliases become copies). An alias shares its
   * node with the anchor; an override must change one place only.
   */
  static Node unshare(String source, Node root) throws RecipeException {
    try {
      return unshare(root, new int[] {0});
    } catch (TooLarge e) {
      throw new RecipeException(tooManyNodes(source));
    }
  }

  private static Node unshare(Node node, int[] count) {
    if (++count[0] > MAX_NODES) {
      throw new TooLarge();
    }
    if (node instanceof MappingNode map) {
      List<NodeTuple> tuples = new ArrayList<>();
      for (NodeTuple t : map.getValue()) {
        tuples.add(new NodeTuple(unshare(t.getKeyNode(), count), unshare(t.getValueNode(), count)));
      }
      return new MappingNode(
          map.getTag(), true, tuples, map.getStartMark(), map.getEndMark(), map.getFlowStyle());
    }
    if (node instanceof SequenceNode seq) {
      List<Node> items = new ArrayList<>();
      for (Node item : seq.getValue()) {
        items.add(unshare(item, count));
      }
      return new SequenceNode(
          seq.getTag(), true, items, seq.getStartMark(), seq.getEndMark(), seq.getFlowStyle());
    }
    ScalarNode scalar = (ScalarNode) node;
    return new ScalarNode(
        scalar.getTag(),
        true,
        scalar.getValue(),
        scalar.getStartMark(),
        scalar.getEndMark(),
        scalar.getScalarStyle());
  }

  /** The one problem reported for a tree of more than {@link #MAX_NODES} nodes. */
  static Problem tooManyNodes(String source) {
    return new Problem(
        source,
        0,
        "",
        "the recipe expands to more than " + MAX_NODES + " YAML nodes (an alias bomb?)");
  }

  /**
   * The line to fix: where the parser stopped, except for an unclosed bracket or quote, which the
   * parser only notices at the end of the file; the line to fix is then the one it opens on.
   */
  private static int errorLine(MarkedYAMLException e) {
    String context = e.getContext() == null ? "" : e.getContext();
    String problem = e.getProblem() == null ? "" : e.getProblem();
    boolean unclosed =
        (context.contains("flow") || context.contains("quoted"))
            && (problem.contains("<stream end>") || problem.contains("end of stream"));
    Mark at = unclosed && e.getContextMark() != null ? e.getContextMark() : e.getProblemMark();
    return at != null ? at.getLine() + 1 : 0;
  }

  /** SnakeYAML's description of a syntax error, in words a person can act on. */
  static String yamlProblem(MarkedYAMLException e) {
    String problem = oneLine(e.getProblem());
    String context = e.getContext() == null ? "" : oneLine(e.getContext());
    if (context.contains("single document")) {
      return "a recipe is one YAML document, but a second one starts here (a '---' line)";
    }
    String both = context + " " + problem;
    if (both.contains("(TAB)")) {
      return "invalid YAML: a tab here; YAML indents with spaces only";
    }
    if (both.contains("quoted scalar")) {
      return "invalid YAML: a quote opened here is never closed";
    }
    if (both.contains("block end")
        || both.contains("block mapping start")
        || both.contains("mapping values are not allowed")) {
      return "invalid YAML: the indentation does not fit here (a key indented more or less than"
          + " the keys around it?)";
    }
    String hint = "";
    if (both.contains("flow sequence") || both.contains("flow mapping")) {
      hint = " (an unclosed [ or {?)";
    }
    return "invalid YAML: " + (context.isEmpty() ? "" : context + ", ") + problem + hint;
  }

  /** A SnakeYAML reader with the recipe limits set. */
  static Yaml yaml() {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(MAX_ALIASES);
    options.setNestingDepthLimit(MAX_DEPTH);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(RecipeLoader.MAX_CHARS + 1);
    return new Yaml(options);
  }

  /** A parser message on one line, as every problem is printed. */
  static String oneLine(String message) {
    return message == null ? "unreadable" : message.replaceAll("\\s+", " ").trim();
  }

  /** Thrown to stop walking an alias bomb once it has been reported. */
  static final class TooLarge extends RuntimeException {
    TooLarge() {
      super(null, null, false, false);
    }
  }
}
