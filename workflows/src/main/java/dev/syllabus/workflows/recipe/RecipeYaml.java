package dev.syllabus.workflows.recipe;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;

/**
 * A recipe written back as recipe YAML, every default spelled out, so that {@link RecipeLoader}
 * reads it as an equal recipe. How {@code syllabus retry --set} applies overrides to the recipe an
 * earlier run was started with, which lives in that run's history, not in a file.
 */
public final class RecipeYaml {

  private RecipeYaml() {}

  public static String write(Recipe recipe) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("name", recipe.name());
    if (!recipe.description().isEmpty()) {
      root.put("description", recipe.description());
    }
    root.put("schedule", Map.of("total_steps", recipe.schedule().totalSteps()));
    if (recipe.model() != null) {
      root.put("model", Map.of("base", recipe.model().base()));
    }
    List<Object> phases = new ArrayList<>();
    for (Phase p : recipe.phases()) {
      phases.add(phase(p));
    }
    root.put("phases", phases);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setWidth(200);
    return new Yaml(new PlainNumbers(options), options).dump(root);
  }

  private static Map<String, Object> phase(Phase p) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", p.name());
    if (p.until() != null) {
      out.put("until", p.until());
    }
    if (p.steps() != null) {
      out.put("steps", p.steps());
    }
    out.put("framework", p.framework());
    out.put("workload", p.workload());
    if (p.image() != null) {
      out.put("image", p.image());
    }
    if (p.pullLatest()) {
      out.put("pull_latest", true);
    }
    if (!p.resources().isEmpty()) {
      Map<String, Object> resources = new TreeMap<>();
      p.resources()
          .forEach(
              (role, r) -> {
                Map<String, Object> amounts = new LinkedHashMap<>();
                if (r.gpu() != null) {
                  amounts.put("gpu", r.gpu());
                }
                if (r.cpu() != null) {
                  amounts.put("cpu", r.cpu());
                }
                if (r.memory() != null) {
                  amounts.put("memory", r.memory());
                }
                if (r.nodes() != 1) {
                  amounts.put("nodes", r.nodes());
                }
                resources.put(role, amounts);
              });
      out.put("resources", resources);
    }
    if (p.data() != null) {
      out.put("data", Map.of("datasets", p.data().datasets()));
    }
    Map<String, Object> optimizer = new LinkedHashMap<>();
    if (p.optimizer().name() != null) {
      optimizer.put("name", p.optimizer().name());
    }
    if (p.optimizer().lr() != null) {
      optimizer.put("lr", p.optimizer().lr());
    }
    optimizer.put("state", p.optimizer().state().name().toLowerCase(Locale.ROOT));
    out.put("optimizer", optimizer);
    if (!p.config().isEmpty()) {
      out.put("config", p.config());
    }
    out.put("retries", p.retries());
    out.put(
        "deadlines",
        Map.of(
            "ready", duration(p.deadlines().readyMillis()),
            "capacity", duration(p.deadlines().capacityMillis())));
    if (p.queue() != null) {
      out.put("queue", p.queue());
    }
    if (p.priority() != null) {
      out.put("priority", p.priority());
    }
    return out;
  }

  private static String duration(long millis) {
    return millis == 0 ? "0" : Deadlines.format(millis);
  }

  /**
   * Writes numbers as YAML 1.1 reads them back: {@code 1.0E10} (no sign in its exponent) would be
   * read as text, so doubles are written in plain decimal notation, always with a point.
   */
  private static final class PlainNumbers extends Representer {
    PlainNumbers(DumperOptions options) {
      super(options);
      this.representers.put(
          Double.class,
          data -> {
            double d = (Double) data;
            if (Double.isNaN(d)) {
              return representScalar(Tag.FLOAT, ".nan");
            }
            if (Double.isInfinite(d)) {
              return representScalar(Tag.FLOAT, d > 0 ? ".inf" : "-.inf");
            }
            String plain = BigDecimal.valueOf(d).toPlainString();
            return representScalar(Tag.FLOAT, plain.contains(".") ? plain : plain + ".0");
          });
    }
  }
}
