package dev.syllabus.workflows.recipe;

import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.SourceMap.Location;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
 * Reads a recipe from YAML text into a {@link Recipe}, reporting every structural problem (unknown
 * keys, wrong types, missing fields, malformed YAML) with its file and line. It does no I/O: the
 * caller reads the file. Semantic checks (schedule coverage, frameworks, names) are {@link
 * RecipeValidator}'s.
 *
 * <p>It binds the YAML node tree by hand rather than through a data-binding library, because the
 * nodes carry line numbers and the problems must name them.
 */
public final class RecipeLoader {

  /** Recipes are small; anything larger is a mistake or an attack. */
  public static final int MAX_CHARS = 1 << 20;

  /** Enough for a few shared blocks; far too few for an alias bomb. */
  static final int MAX_ALIASES = 20;

  static final int MAX_NODES = 100_000;
  static final int MAX_DEPTH = 64;

  private static final Set<String> RECIPE_KEYS =
      Set.of("name", "description", "schedule", "model", "phases");
  private static final Set<String> SCHEDULE_KEYS = Set.of("total_steps");
  private static final Set<String> MODEL_KEYS = Set.of("base");
  private static final Set<String> PHASE_KEYS =
      Set.of(
          "name",
          "until",
          "steps",
          "framework",
          "workload",
          "image",
          "pull_latest",
          "resources",
          "data",
          "optimizer",
          "config",
          "retries",
          "deadlines",
          "queue");
  private static final Set<String> DEADLINE_KEYS = Set.of("ready", "capacity");
  private static final Set<String> RESOURCE_KEYS = Set.of("gpu", "cpu", "memory");
  private static final Set<String> DATA_KEYS = Set.of("datasets");
  private static final Set<String> OPTIMIZER_KEYS = Set.of("name", "lr", "state");

  /** A recipe and where each of its fields came from. */
  public record Loaded(Recipe recipe, SourceMap sources) {}

  private RecipeLoader() {}

  public static Loaded parse(String source, String text) throws RecipeException {
    return parse(source, text, List.of());
  }

  /**
   * Parses {@code text}, first applying {@code overrides} of the form {@code path=value} (e.g.
   * {@code phases[1].optimizer.lr=1.0e-5} or {@code phases[grpo].resources.train.gpu=4}).
   */
  public static Loaded parse(String source, String text, List<String> overrides)
      throws RecipeException {
    if (text.length() > MAX_CHARS) {
      throw new RecipeException(
          new Problem(
              source,
              0,
              "",
              String.format(
                  Locale.ROOT,
                  "the recipe has %,d characters; it may have at most %,d (1 MiB)",
                  text.length(),
                  MAX_CHARS)));
    }
    Node root = compose(source, text);
    if (root == null) {
      throw new RecipeException(
          new Problem(source, 1, "", "the file is empty; a recipe needs at least name and phases"));
    }
    Binder binder = new Binder(source);
    if (!overrides.isEmpty()) {
      // An alias shares its node with the anchor; an override must change one place only.
      try {
        root = unshare(root, new int[] {0});
      } catch (TooLarge e) {
        throw new RecipeException(
            new Problem(
                source,
                0,
                "",
                "the recipe expands to more than " + MAX_NODES + " YAML nodes (an alias bomb?)"));
      }
    }
    for (String override : overrides) {
      binder.applyOverride(root, override);
    }
    if (!binder.problems.isEmpty()) {
      throw new RecipeException(binder.problems);
    }
    Recipe recipe;
    try {
      recipe = binder.recipe(root);
    } catch (TooLarge e) {
      recipe = null;
    }
    if (!binder.problems.isEmpty() || recipe == null) {
      throw new RecipeException(binder.problems);
    }
    return new Loaded(recipe, binder.sources);
  }

  private static Node compose(String source, String text) throws RecipeException {
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

  /** A copy of the tree in which no node appears twice (aliases become copies). */
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

  static Yaml yaml() {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(MAX_ALIASES);
    options.setNestingDepthLimit(MAX_DEPTH);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(MAX_CHARS + 1);
    return new Yaml(options);
  }

  private static String oneLine(String message) {
    return message == null ? "unreadable" : message.replaceAll("\\s+", " ").trim();
  }

  /** Walks the node tree, building records and collecting problems. */
  private static final class Binder {
    private final String source;
    private final List<Problem> problems = new ArrayList<>();
    private final SourceMap sources;
    private final Map<Node, String> overridden = new IdentityHashMap<>();
    private final Set<String> misspelled = new java.util.HashSet<>();
    private int nodesSeen;

    Binder(String source) {
      this.source = source;
      this.sources = new SourceMap(source);
    }

    // --- the recipe -------------------------------------------------------------------------

    Recipe recipe(Node root) {
      Map<String, Node> f = fields(root, "", RECIPE_KEYS, List.of("name", "phases"));
      if (f == null) {
        return null;
      }
      String name = string(f.get("name"), "name");
      String description =
          f.containsKey("description") ? string(f.get("description"), "description") : "";
      Long totalSteps = null;
      if (f.containsKey("schedule")) {
        Map<String, Node> s =
            fields(f.get("schedule"), "schedule", SCHEDULE_KEYS, List.of("total_steps"));
        if (s != null) {
          totalSteps = wholeNumber(s.get("total_steps"), "schedule.total_steps");
        }
      }
      ModelSpec model = null;
      if (f.containsKey("model")) {
        Map<String, Node> m = fields(f.get("model"), "model", MODEL_KEYS, List.of("base"));
        if (m != null) {
          model = new ModelSpec(string(m.get("base"), "model.base"));
        }
      }
      List<Phase> phases = new ArrayList<>();
      SequenceNode seq = f.containsKey("phases") ? sequence(f.get("phases"), "phases") : null;
      if (seq != null) {
        if (seq.getValue().isEmpty()) {
          problem(seq, "phases", "a recipe needs at least one phase");
        }
        for (int i = 0; i < seq.getValue().size(); i++) {
          Phase phase = phase(seq.getValue().get(i), "phases[" + i + "]");
          if (phase != null) {
            phases.add(phase);
          }
        }
      }
      if (!f.containsKey("schedule") && !misspelled.contains("schedule")) {
        boolean allSteps = !phases.isEmpty() && phases.stream().allMatch(p -> p.steps() != null);
        if (!allSteps) {
          problem(
              root,
              "schedule",
              "missing required key 'schedule' (schedule.total_steps may be left out only when every"
                  + " phase gives 'steps')");
        }
      }
      if (!problems.isEmpty() || name == null) {
        return null;
      }
      long total = totalSteps != null ? totalSteps : Schedule.sumOfSteps(phases);
      return new Recipe(name, description, new Schedule(total), model, phases);
    }

    Phase phase(Node node, String path) {
      Map<String, Node> f =
          fields(node, path, PHASE_KEYS, List.of("name", "framework", "workload"));
      if (f == null) {
        return null;
      }
      String name = string(f.get("name"), path + ".name");
      Double until = f.containsKey("until") ? number(f.get("until"), path + ".until") : null;
      Long steps = f.containsKey("steps") ? wholeNumber(f.get("steps"), path + ".steps") : null;
      if (!f.containsKey("until") && !f.containsKey("steps")) {
        problem(node, path, "give either 'until' (a time in (0, 1]) or 'steps' (a step count)");
      }
      String framework = string(f.get("framework"), path + ".framework");
      String workload = string(f.get("workload"), path + ".workload");
      String image = f.containsKey("image") ? string(f.get("image"), path + ".image") : null;
      boolean pullLatest =
          f.containsKey("pull_latest")
              && Boolean.TRUE.equals(bool(f.get("pull_latest"), path + ".pull_latest"));
      Map<String, WorkloadResources> resources = new LinkedHashMap<>();
      if (f.containsKey("resources")) {
        MappingNode map = mapping(f.get("resources"), path + ".resources");
        if (map != null) {
          for (NodeTuple t : map.getValue()) {
            String role = key(t, path + ".resources");
            if (role != null) {
              WorkloadResources r = resources(t.getValueNode(), path + ".resources." + role);
              if (r != null) {
                resources.put(role, r);
              }
            }
          }
        }
      }
      DataSpec data = f.containsKey("data") ? data(f.get("data"), path + ".data") : null;
      OptimizerSpec optimizer =
          f.containsKey("optimizer") ? optimizer(f.get("optimizer"), path + ".optimizer") : null;
      Map<String, Object> config = new LinkedHashMap<>();
      if (f.containsKey("config")) {
        Object plain = plain(f.get("config"), path + ".config", 0);
        if (plain instanceof Map<?, ?> map) {
          map.forEach((k, v) -> config.put(String.valueOf(k), v));
        } else if (plain != null) {
          problem(
              f.get("config"), path + ".config", "must be a mapping of the framework's own keys");
        }
      }
      int retries = Phase.DEFAULT_RETRIES;
      if (f.containsKey("retries")) {
        Long r = wholeNumber(f.get("retries"), path + ".retries");
        if (r != null) {
          retries = (int) Math.min(Integer.MAX_VALUE, Math.max(Integer.MIN_VALUE, r));
        }
      }
      Deadlines deadlines =
          f.containsKey("deadlines") ? deadlines(f.get("deadlines"), path + ".deadlines") : null;
      String queue = f.containsKey("queue") ? string(f.get("queue"), path + ".queue") : null;
      return new Phase(
          name,
          until,
          steps,
          framework,
          workload,
          image,
          pullLatest,
          resources,
          data,
          optimizer,
          config,
          retries,
          deadlines,
          queue);
    }

    Deadlines deadlines(Node node, String path) {
      Map<String, Node> f = fields(node, path, DEADLINE_KEYS, List.of());
      if (f == null) {
        return null;
      }
      long ready = Deadlines.DEFAULTS.readyMillis();
      long capacity = Deadlines.DEFAULTS.capacityMillis();
      if (f.containsKey("ready")) {
        Long d = duration(f.get("ready"), path + ".ready");
        ready = d == null ? ready : d;
      }
      if (f.containsKey("capacity")) {
        Long d = duration(f.get("capacity"), path + ".capacity");
        capacity = d == null ? capacity : d;
      }
      return new Deadlines(ready, capacity);
    }

    /** A duration such as {@code 90s}, {@code 15m}, {@code 2h} or {@code 1h30m}; 0 for none. */
    Long duration(Node node, String path) {
      String text = string(node, path);
      if (text == null) {
        return null;
      }
      Long millis = Deadlines.parse(text);
      if (millis == null) {
        problem(
            node,
            path,
            "expected a duration such as 90s, 15m, 2h or 0 (no limit), got '" + text + "'");
      }
      return millis;
    }

    WorkloadResources resources(Node node, String path) {
      Map<String, Node> f = fields(node, path, RESOURCE_KEYS, List.of());
      if (f == null) {
        return null;
      }
      Integer gpu = null;
      if (f.containsKey("gpu")) {
        Long g = wholeNumber(f.get("gpu"), path + ".gpu");
        if (g != null) {
          gpu = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, g));
        }
      }
      String cpu = f.containsKey("cpu") ? quantity(f.get("cpu"), path + ".cpu") : null;
      String memory = f.containsKey("memory") ? quantity(f.get("memory"), path + ".memory") : null;
      return new WorkloadResources(gpu, cpu, memory);
    }

    DataSpec data(Node node, String path) {
      Map<String, Node> f = fields(node, path, DATA_KEYS, List.of("datasets"));
      if (f == null) {
        return null;
      }
      SequenceNode seq = sequence(f.get("datasets"), path + ".datasets");
      if (seq == null) {
        return null;
      }
      List<Map<String, Object>> datasets = new ArrayList<>();
      for (int i = 0; i < seq.getValue().size(); i++) {
        String itemPath = path + ".datasets[" + i + "]";
        Node item = seq.getValue().get(i);
        Object plain = plain(item, itemPath, 0);
        if (plain instanceof Map<?, ?> map) {
          Map<String, Object> entry = new LinkedHashMap<>();
          map.forEach((k, v) -> entry.put(String.valueOf(k), v));
          if (!(entry.get("path") instanceof String p) || p.isBlank()) {
            problem(item, itemPath + ".path", "every dataset needs a 'path'");
          }
          datasets.add(entry);
        } else {
          problem(item, itemPath, "must be a mapping with at least a 'path'");
        }
      }
      return new DataSpec(datasets);
    }

    OptimizerSpec optimizer(Node node, String path) {
      Map<String, Node> f = fields(node, path, OPTIMIZER_KEYS, List.of());
      if (f == null) {
        return null;
      }
      String name = f.containsKey("name") ? string(f.get("name"), path + ".name") : null;
      Double lr = f.containsKey("lr") ? number(f.get("lr"), path + ".lr") : null;
      OptimizerState state = OptimizerState.RESET;
      if (f.containsKey("state")) {
        String s = string(f.get("state"), path + ".state");
        if (s != null) {
          switch (s.toLowerCase(Locale.ROOT)) {
            case "carry" -> state = OptimizerState.CARRY;
            case "reset" -> state = OptimizerState.RESET;
            default ->
                problem(f.get("state"), path + ".state", "must be carry or reset, got '" + s + "'");
          }
        }
      }
      return new OptimizerSpec(name, lr, state);
    }

    // --- --set overrides --------------------------------------------------------------------

    void applyOverride(Node root, String override) {
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
        value = yaml().compose(new StringReader(valueText));
      } catch (MarkedYAMLException e) {
        String why = yamlProblem(e).replaceFirst("^invalid YAML: ", "");
        problems.add(new Problem(label, 0, pathText, "the value is not valid YAML: " + why));
        return;
      } catch (YAMLException e) {
        problems.add(
            new Problem(
                label, 0, pathText, "the value is not valid YAML: " + oneLine(e.getMessage())));
        return;
      }
      if (value == null) {
        value =
            new ScalarNode(
                Tag.NULL, "", null, null, org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN);
      }
      markOverridden(value, label);
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
            markOverridden(key, label);
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
                new MappingNode(
                    Tag.MAP, new ArrayList<>(), org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
            markOverridden(created, label);
            ScalarNode key = plainScalar(segment);
            markOverridden(key, label);
            map.getValue().add(new NodeTuple(key, created));
            current = created;
          } else {
            current = found.getValueNode();
          }
        }
      }
    }

    private static ScalarNode plainScalar(String value) {
      return new ScalarNode(
          Tag.STR, value, null, null, org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN);
    }

    private void markOverridden(Node node, String label) {
      overridden.put(node, label);
      if (node instanceof MappingNode map) {
        for (NodeTuple t : map.getValue()) {
          markOverridden(t.getKeyNode(), label);
          markOverridden(t.getValueNode(), label);
        }
      } else if (node instanceof SequenceNode seq) {
        seq.getValue().forEach(n -> markOverridden(n, label));
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

    // --- typed access -----------------------------------------------------------------------

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
          problem(t.getKeyNode(), keyPath, unknownKey(key, allowed));
          String guess = closest(key, allowed);
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
        if (!out.containsKey(key)
            && !misspelled.contains(path.isEmpty() ? key : path + "." + key)) {
          problem(
              node, path.isEmpty() ? key : path + "." + key, "missing required key '" + key + "'");
        }
      }
      return out;
    }

    private String key(NodeTuple t, String path) {
      if (t.getKeyNode() instanceof ScalarNode k) {
        return k.getValue();
      }
      problem(t.getKeyNode(), path, "keys must be plain words");
      return null;
    }

    MappingNode mapping(Node node, String path) {
      count(node, path);
      if (node instanceof MappingNode map) {
        record(path, node);
        return map;
      }
      problem(node, path, "expected a mapping (key: value lines), got " + describe(node));
      return null;
    }

    SequenceNode sequence(Node node, String path) {
      count(node, path);
      if (node instanceof SequenceNode seq) {
        record(path, node);
        return seq;
      }
      problem(node, path, "expected a list (lines starting with '- '), got " + describe(node));
      return null;
    }

    String string(Node node, String path) {
      if (node == null) {
        return null;
      }
      count(node, path);
      record(path, node);
      if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
        return s.getValue();
      }
      problem(node, path, "expected text, got " + describe(node));
      return null;
    }

    Long wholeNumber(Node node, String path) {
      if (node == null) {
        return null;
      }
      count(node, path);
      record(path, node);
      if (node instanceof ScalarNode s) {
        Object value = scalar(s);
        if (value == null && !s.getTag().equals(Tag.NULL)) {
          value = s.getValue();
        }
        if (value instanceof Integer i) {
          return i.longValue();
        }
        if (value instanceof Long l) {
          return l;
        }
        if (value instanceof String text) {
          try {
            return Long.parseLong(text.trim().replace("_", ""));
          } catch (NumberFormatException ignored) {
            // reported below
          }
        }
      }
      problem(node, path, "expected a whole number, got " + describe(node));
      return null;
    }

    Double number(Node node, String path) {
      if (node == null) {
        return null;
      }
      count(node, path);
      record(path, node);
      if (node instanceof ScalarNode s) {
        Object value = scalar(s);
        if (value instanceof Number n) {
          return n.doubleValue();
        }
        if (value instanceof String text) {
          // YAML 1.1 reads 1e-5 as text; people mean a number.
          try {
            double d = Double.parseDouble(text.trim());
            if (Double.isFinite(d)) {
              return d;
            }
          } catch (NumberFormatException ignored) {
            // reported below
          }
        }
      }
      problem(node, path, "expected a number, got " + describe(node));
      return null;
    }

    Boolean bool(Node node, String path) {
      count(node, path);
      record(path, node);
      if (node instanceof ScalarNode s && scalar(s) instanceof Boolean b) {
        return b;
      }
      problem(node, path, "expected true or false, got " + describe(node));
      return null;
    }

    /** A Kubernetes quantity as text: {@code 32}, {@code 0.5}, {@code 500m}, {@code 1600Gi}. */
    String quantity(Node node, String path) {
      count(node, path);
      record(path, node);
      if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
        return s.getValue();
      }
      problem(node, path, "expected a quantity such as 4, 500m or 16Gi, got " + describe(node));
      return null;
    }

    /** Plain Java values for the framework's own keys: maps, lists, strings, numbers, booleans. */
    Object plain(Node node, String path, int depth) {
      count(node, path);
      record(path, node);
      if (depth > MAX_DEPTH) {
        problem(node, path, "nested too deeply (more than " + MAX_DEPTH + " levels)");
        return null;
      }
      if (node instanceof ScalarNode s) {
        return scalar(s);
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

    /** A scalar as YAML 1.1 reads it: null, boolean, Integer/Long, Double or String. */
    static Object scalar(ScalarNode s) {
      String v = s.getValue();
      Tag tag = s.getTag();
      try {
        if (tag.equals(Tag.NULL)) {
          return null;
        }
        if (tag.equals(Tag.BOOL)) {
          return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            default -> false;
          };
        }
        if (tag.equals(Tag.INT)) {
          String digits = v.replace("_", "");
          boolean negative = digits.startsWith("-");
          if (digits.startsWith("-") || digits.startsWith("+")) {
            digits = digits.substring(1);
          }
          long value;
          if (digits.startsWith("0x")) {
            value = Long.parseLong(digits.substring(2), 16);
          } else if (digits.startsWith("0b")) {
            value = Long.parseLong(digits.substring(2), 2);
          } else if (digits.length() > 1 && digits.startsWith("0")) {
            value = Long.parseLong(digits.substring(1), 8);
          } else {
            value = Long.parseLong(digits);
          }
          value = negative ? -value : value;
          if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
            return (int) value;
          }
          return value;
        }
        if (tag.equals(Tag.FLOAT)) {
          String f = v.replace("_", "").toLowerCase(Locale.ROOT);
          if (f.endsWith(".inf")) {
            return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
          }
          if (f.equals(".nan")) {
            return Double.NaN;
          }
          return Double.parseDouble(f);
        }
      } catch (NumberFormatException e) {
        return v;
      }
      return v;
    }

    // --- bookkeeping ------------------------------------------------------------------------

    private void count(Node node, String path) {
      if (++nodesSeen == MAX_NODES) {
        problems.add(
            new Problem(
                source,
                0,
                "",
                "the recipe expands to more than " + MAX_NODES + " YAML nodes (an alias bomb?)"));
      }
      if (nodesSeen > MAX_NODES) {
        throw new TooLarge();
      }
    }

    private void record(String path, Node node) {
      if (node != null && !path.isEmpty()) {
        sources.put(path, location(node));
      }
    }

    private Location location(Node node) {
      String label = overridden.get(node);
      if (label != null) {
        return new Location(label, 0);
      }
      return new Location(source, line(node));
    }

    private static int line(Node node) {
      return node != null && node.getStartMark() != null ? node.getStartMark().getLine() + 1 : 0;
    }

    private void problem(Node node, String path, String message) {
      Location at = node != null ? location(node) : sources.locate(path);
      problems.add(new Problem(at.source(), at.line(), path, message));
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

    private static String unknownKey(String key, Set<String> allowed) {
      String known = String.join(", ", allowed.stream().sorted().toList());
      String guess = closest(key, allowed);
      if (guess != null) {
        return "unknown key; did you mean '" + guess + "'? (known keys: " + known + ")";
      }
      return "unknown key (known keys: " + known + ")";
    }

    /** The allowed key {@code key} is probably a misspelling of, or null. */
    private static String closest(String key, Set<String> allowed) {
      String best = null;
      int bestDistance = Integer.MAX_VALUE;
      for (String candidate : allowed) {
        int d = editDistance(key.toLowerCase(Locale.ROOT), candidate);
        if (d < bestDistance) {
          bestDistance = d;
          best = candidate;
        }
      }
      return best != null && bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    static int editDistance(String a, String b) {
      int[] prev = new int[b.length() + 1];
      int[] cur = new int[b.length() + 1];
      for (int j = 0; j <= b.length(); j++) {
        prev[j] = j;
      }
      for (int i = 1; i <= a.length(); i++) {
        cur[0] = i;
        for (int j = 1; j <= b.length(); j++) {
          int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
          cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
        }
        int[] t = prev;
        prev = cur;
        cur = t;
      }
      return prev[b.length()];
    }
  }

  /** Thrown to stop walking an alias bomb once it has been reported. */
  private static final class TooLarge extends RuntimeException {
    TooLarge() {
      super(null, null, false, false);
    }
  }
}
