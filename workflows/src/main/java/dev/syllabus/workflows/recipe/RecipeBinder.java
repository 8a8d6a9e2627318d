package dev.syllabus.workflows.recipe;

import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Binds a recipe's node tree to the records ({@link Recipe}, {@link Phase}, {@link Deadlines},
 * {@link WorkloadResources}, {@link DataSpec}, {@link OptimizerSpec}): which keys each part of a
 * recipe has, which are required, and what their values mean. Problems are collected, not thrown,
 * so that one load reports all of them with their lines.
 */
final class RecipeBinder {

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
          "queue",
          "priority");
  private static final Set<String> DEADLINE_KEYS = Set.of("ready", "capacity");
  private static final Set<String> RESOURCE_KEYS = Set.of("gpu", "cpu", "memory", "nodes");
  private static final Set<String> DATA_KEYS = Set.of("datasets");
  private static final Set<String> OPTIMIZER_KEYS = Set.of("name", "lr", "state");

  private final NodeReader read;

  /**
   * @param setBy the nodes a {@code --set} put in the tree, so that their problems name it
   */
  RecipeBinder(String source, Map<Node, String> setBy) {
    this.read = new NodeReader(source, setBy);
  }

  /** Every problem found so far; the recipe is usable only when there are none. */
  List<Problem> problems() {
    return read.problems();
  }

  /** Where each field read so far came from. */
  SourceMap sources() {
    return read.sources();
  }

  /**
   * The recipe, or null when it has problems.
   *
   * @throws SafeYaml.TooLarge when the tree has more nodes than allowed (reported as a problem)
   */
  Recipe recipe(Node root) {
    Map<String, Node> f = read.fields(root, "", RECIPE_KEYS, List.of("name", "phases"));
    if (f == null) {
      return null;
    }
    String name = read.string(f.get("name"), "name");
    String description =
        f.containsKey("description") ? read.string(f.get("description"), "description") : "";
    Long totalSteps = null;
    if (f.containsKey("schedule")) {
      Map<String, Node> s =
          read.fields(f.get("schedule"), "schedule", SCHEDULE_KEYS, List.of("total_steps"));
      if (s != null) {
        totalSteps = read.wholeNumber(s.get("total_steps"), "schedule.total_steps");
      }
    }
    ModelSpec model = null;
    if (f.containsKey("model")) {
      Map<String, Node> m = read.fields(f.get("model"), "model", MODEL_KEYS, List.of("base"));
      if (m != null) {
        model = new ModelSpec(read.string(m.get("base"), "model.base"));
      }
    }
    List<Phase> phases = new ArrayList<>();
    SequenceNode seq = f.containsKey("phases") ? read.sequence(f.get("phases"), "phases") : null;
    if (seq != null) {
      if (seq.getValue().isEmpty()) {
        read.problem(seq, "phases", "a recipe needs at least one phase");
      }
      for (int i = 0; i < seq.getValue().size(); i++) {
        Phase phase = phase(seq.getValue().get(i), "phases[" + i + "]");
        if (phase != null) {
          phases.add(phase);
        }
      }
    }
    if (!f.containsKey("schedule") && !read.misspelled("schedule")) {
      boolean allSteps = !phases.isEmpty() && phases.stream().allMatch(p -> p.steps() != null);
      if (!allSteps) {
        read.problem(
            root,
            "schedule",
            "missing required key 'schedule' (schedule.total_steps may be left out only when every"
                + " phase gives 'steps')");
      }
    }
    if (!read.problems().isEmpty() || name == null) {
      return null;
    }
    long total = totalSteps != null ? totalSteps : Schedule.sumOfSteps(phases);
    return new Recipe(name, description, new Schedule(total), model, phases);
  }

  private Phase phase(Node node, String path) {
    Map<String, Node> f =
        read.fields(node, path, PHASE_KEYS, List.of("name", "framework", "workload"));
    if (f == null) {
      return null;
    }
    String name = read.string(f.get("name"), path + ".name");
    Double until = f.containsKey("until") ? read.number(f.get("until"), path + ".until") : null;
    Long steps = f.containsKey("steps") ? read.wholeNumber(f.get("steps"), path + ".steps") : null;
    if (!f.containsKey("until") && !f.containsKey("steps")) {
      read.problem(node, path, "give either 'until' (a time in (0, 1]) or 'steps' (a step count)");
    }
    String framework = read.string(f.get("framework"), path + ".framework");
    String workload = read.string(f.get("workload"), path + ".workload");
    String image = f.containsKey("image") ? read.string(f.get("image"), path + ".image") : null;
    boolean pullLatest =
        f.containsKey("pull_latest")
            && Boolean.TRUE.equals(read.bool(f.get("pull_latest"), path + ".pull_latest"));
    Map<String, WorkloadResources> resources = new LinkedHashMap<>();
    if (f.containsKey("resources")) {
      MappingNode map = read.mapping(f.get("resources"), path + ".resources");
      if (map != null) {
        for (NodeTuple t : map.getValue()) {
          String role = read.key(t, path + ".resources");
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
      Object plain = read.plain(f.get("config"), path + ".config", 0);
      if (plain instanceof Map<?, ?> map) {
        map.forEach((k, v) -> config.put(String.valueOf(k), v));
      } else if (plain != null) {
        read.problem(
            f.get("config"), path + ".config", "must be a mapping of the framework's own keys");
      }
    }
    int retries = Phase.DEFAULT_RETRIES;
    if (f.containsKey("retries")) {
      Long r = read.wholeNumber(f.get("retries"), path + ".retries");
      if (r != null) {
        retries = (int) Math.min(Integer.MAX_VALUE, Math.max(Integer.MIN_VALUE, r));
      }
    }
    Deadlines deadlines =
        f.containsKey("deadlines") ? deadlines(f.get("deadlines"), path + ".deadlines") : null;
    String queue = f.containsKey("queue") ? read.string(f.get("queue"), path + ".queue") : null;
    String priority =
        f.containsKey("priority") ? read.string(f.get("priority"), path + ".priority") : null;
    if (name == null || framework == null || workload == null) {
      return null; // a required key is missing or not a string: already a problem
    }
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
        queue,
        priority);
  }

  private Deadlines deadlines(Node node, String path) {
    Map<String, Node> f = read.fields(node, path, DEADLINE_KEYS, List.of());
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
  private Long duration(Node node, String path) {
    String text = read.string(node, path);
    if (text == null) {
      return null;
    }
    Long millis = Deadlines.parse(text);
    if (millis == null) {
      read.problem(
          node,
          path,
          "expected a duration such as 90s, 15m, 2h or 0 (no limit), got '" + text + "'");
    }
    return millis;
  }

  private WorkloadResources resources(Node node, String path) {
    Map<String, Node> f = read.fields(node, path, RESOURCE_KEYS, List.of());
    if (f == null) {
      return null;
    }
    Integer gpu = null;
    if (f.containsKey("gpu")) {
      Long g = read.wholeNumber(f.get("gpu"), path + ".gpu");
      if (g != null) {
        gpu = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, g));
      }
    }
    String cpu = f.containsKey("cpu") ? read.quantity(f.get("cpu"), path + ".cpu") : null;
    String memory =
        f.containsKey("memory") ? read.quantity(f.get("memory"), path + ".memory") : null;
    Integer nodes = null;
    if (f.containsKey("nodes")) {
      Long n = read.wholeNumber(f.get("nodes"), path + ".nodes");
      if (n != null) {
        nodes = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n));
      }
    }
    return new WorkloadResources(gpu, cpu, memory, nodes);
  }

  private DataSpec data(Node node, String path) {
    Map<String, Node> f = read.fields(node, path, DATA_KEYS, List.of("datasets"));
    if (f == null) {
      return null;
    }
    SequenceNode seq = read.sequence(f.get("datasets"), path + ".datasets");
    if (seq == null) {
      return null;
    }
    List<Map<String, Object>> datasets = new ArrayList<>();
    for (int i = 0; i < seq.getValue().size(); i++) {
      String itemPath = path + ".datasets[" + i + "]";
      Node item = seq.getValue().get(i);
      Object plain = read.plain(item, itemPath, 0);
      if (plain instanceof Map<?, ?> map) {
        Map<String, Object> entry = new LinkedHashMap<>();
        map.forEach((k, v) -> entry.put(String.valueOf(k), v));
        if (!(entry.get("path") instanceof String p) || p.isBlank()) {
          read.problem(item, itemPath + ".path", "every dataset needs a 'path'");
        }
        datasets.add(entry);
      } else {
        read.problem(item, itemPath, "must be a mapping with at least a 'path'");
      }
    }
    return new DataSpec(datasets);
  }

  private OptimizerSpec optimizer(Node node, String path) {
    Map<String, Node> f = read.fields(node, path, OPTIMIZER_KEYS, List.of());
    if (f == null) {
      return null;
    }
    String name = f.containsKey("name") ? read.string(f.get("name"), path + ".name") : null;
    Double lr = f.containsKey("lr") ? read.number(f.get("lr"), path + ".lr") : null;
    OptimizerState state = OptimizerState.RESET;
    if (f.containsKey("state")) {
      String s = read.string(f.get("state"), path + ".state");
      if (s != null) {
        switch (s.toLowerCase(Locale.ROOT)) {
          case "carry" -> state = OptimizerState.CARRY;
          case "reset" -> state = OptimizerState.RESET;
          default ->
              read.problem(
                  f.get("state"), path + ".state", "must be carry or reset, got '" + s + "'");
        }
      }
    }
    return new OptimizerSpec(name, lr, state);
  }
}
