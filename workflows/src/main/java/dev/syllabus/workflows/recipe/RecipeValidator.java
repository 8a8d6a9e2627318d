package dev.syllabus.workflows.recipe;

import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The rules a recipe must meet before anything is started: phases contiguous and covering [0, 1],
 * frameworks and workloads that exist, positive resources, valid Kubernetes names, and optimizer
 * state carried only between compatible phases. Every problem names its field and, for a loaded
 * recipe, its file and line.
 */
public final class RecipeValidator {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern QUANTITY =
      Pattern.compile(
          "\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][0-9]+)?");

  /** Longest phase name: it becomes part of workflow ids and Kubernetes object names. */
  public static final int MAX_PHASE_NAME = 40;

  public static final int MAX_RETRIES = 20;

  /** The workload role of the training Job: the only one that may span several nodes. */
  private static final String TRAIN_ROLE = "train";

  private RecipeValidator() {}

  public static List<Problem> validate(Recipe recipe, SourceMap at, FrameworkCatalog catalog) {
    List<Problem> problems = new ArrayList<>();
    checkName(recipe.name(), "name", 63, at, problems);
    long total = recipe.schedule().totalSteps();
    if (total < 1) {
      problems.add(at.problem("schedule.total_steps", "must be at least 1, got " + total));
    }
    if (recipe.model() != null
        && (recipe.model().base() == null || recipe.model().base().isBlank())) {
      problems.add(at.problem("model.base", "must not be empty"));
    }
    if (recipe.phases().isEmpty()) {
      problems.add(at.problem("phases", "a recipe needs at least one phase"));
      return problems;
    }
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < recipe.phases().size(); i++) {
      Phase phase = recipe.phases().get(i);
      String path = "phases[" + i + "]";
      checkName(phase.name(), path + ".name", MAX_PHASE_NAME, at, problems);
      Integer earlier = seen.putIfAbsent(phase.name(), i);
      if (earlier != null) {
        problems.add(
            at.problem(
                path + ".name",
                "'" + phase.name() + "' is already the name of phases[" + earlier + "]"));
      }
      checkFramework(phase, path, at, catalog, problems);
      checkResources(phase, path, at, catalog, problems);
      if (phase.image() != null && (phase.image().isBlank() || phase.image().matches(".*\\s.*"))) {
        problems.add(
            at.problem(
                path + ".image",
                "must be an image reference without spaces, got '" + phase.image() + "'"));
      }
      if (phase.retries() < 0 || phase.retries() > MAX_RETRIES) {
        problems.add(
            at.problem(
                path + ".retries",
                "must be between 0 and " + MAX_RETRIES + ", got " + phase.retries()));
      }
      if (phase.data() != null && phase.data().datasets().isEmpty()) {
        problems.add(
            at.problem(
                path + ".data.datasets",
                "needs at least one dataset (leave 'data' out to keep the previous phase's)"));
      }
      Double lr = phase.optimizer().lr();
      if (lr != null && !(lr > 0 && Double.isFinite(lr))) {
        problems.add(at.problem(path + ".optimizer.lr", "must be a positive number, got " + lr));
      }
      if (phase.queue() != null) {
        checkName(phase.queue(), path + ".queue", 63, at, problems);
      }
      if (phase.priority() != null) {
        checkPriority(phase, path + ".priority", at, problems);
      }
      checkCarry(recipe, i, at, catalog, problems);
    }
    checkSchedule(recipe, at, problems);
    return problems;
  }

  private static void checkName(
      String name, String path, int max, SourceMap at, List<Problem> problems) {
    if (name.length() > max) {
      problems.add(at.problem(path, "'" + name + "' is longer than " + max + " characters"));
    } else if (!DNS_LABEL.matcher(name).matches()) {
      problems.add(
          at.problem(
              path,
              "'"
                  + name
                  + "' is not a valid Kubernetes name: use lower-case letters, digits and '-',"
                  + " starting and ending with a letter or digit"));
    }
  }

  /**
   * A Kueue WorkloadPriorityClass: an object name (a DNS subdomain) that fits in a label value, and
   * only for a phase in a Kueue queue, as nothing else reads it.
   */
  private static void checkPriority(
      Phase phase, String path, SourceMap at, List<Problem> problems) {
    String name = phase.priority();
    if (phase.queue() == null) {
      problems.add(
          at.problem(
              path,
              "needs 'queue': a Kueue WorkloadPriorityClass applies only to a Job in a Kueue"
                  + " queue"));
    } else if (name.length() > 63) {
      problems.add(at.problem(path, "'" + name + "' is longer than 63 characters"));
    } else if (!DNS_SUBDOMAIN.matcher(name).matches()) {
      problems.add(
          at.problem(
              path,
              "'"
                  + name
                  + "' is not a valid WorkloadPriorityClass name: use lower-case letters, digits,"
                  + " '-' and '.', starting and ending with a letter or digit"));
    }
  }

  private static void checkFramework(
      Phase phase, String path, SourceMap at, FrameworkCatalog catalog, List<Problem> problems) {
    FrameworkCatalog.Framework framework = catalog.frameworks().get(phase.framework());
    if (framework == null) {
      problems.add(
          at.problem(
              path + ".framework",
              "no framework '"
                  + phase.framework()
                  + "' under "
                  + catalog.root()
                  + " (there are: "
                  + String.join(", ", new TreeSet<>(catalog.frameworks().keySet()))
                  + ")"));
      return;
    }
    if (!framework.workloads().containsKey(phase.workload())) {
      problems.add(
          at.problem(
              path + ".workload",
              "no workload '"
                  + phase.workload()
                  + "' under "
                  + catalog.root()
                  + phase.framework()
                  + "/ (there are: "
                  + String.join(", ", new TreeSet<>(framework.workloads().keySet()))
                  + ")"));
    }
  }

  private static void checkResources(
      Phase phase, String path, SourceMap at, FrameworkCatalog catalog, List<Problem> problems) {
    FrameworkCatalog.Framework framework = catalog.frameworks().get(phase.framework());
    Set<String> roles = framework == null ? null : framework.workloads().get(phase.workload());
    for (Map.Entry<String, WorkloadResources> entry : phase.resources().entrySet()) {
      String rolePath = path + ".resources." + entry.getKey();
      if (roles != null && !roles.contains(entry.getKey())) {
        problems.add(
            at.problem(
                rolePath,
                "the workload "
                    + phase.frameworkWorkload()
                    + " has no role '"
                    + entry.getKey()
                    + "' (it has: "
                    + String.join(", ", new TreeSet<>(roles))
                    + ")"));
      }
      WorkloadResources r = entry.getValue();
      if (r.gpu() != null && r.gpu() <= 0) {
        problems.add(
            at.problem(
                rolePath + ".gpu",
                "must be a positive whole number, got " + r.gpu() + " (leave it out for none)"));
      }
      checkQuantity(r.cpu(), rolePath + ".cpu", at, problems);
      checkQuantity(r.memory(), rolePath + ".memory", at, problems);
      checkNodes(entry.getKey(), r, rolePath, at, problems);
    }
  }

  /**
   * Several nodes make the trainer one distributed job (an Indexed Job, a pod per node, {@code gpu}
   * processes each); servers have no such launcher, so they stay on one node.
   */
  private static void checkNodes(
      String role, WorkloadResources r, String rolePath, SourceMap at, List<Problem> problems) {
    if (r.nodes() < 1) {
      problems.add(
          at.problem(
              rolePath + ".nodes", "must be a whole number of at least 1, got " + r.nodes()));
      return;
    }
    if (!r.multiNode()) {
      return;
    }
    if (!TRAIN_ROLE.equals(role)) {
      problems.add(
          at.problem(
              rolePath + ".nodes",
              "only the trainer (resources."
                  + TRAIN_ROLE
                  + ") can span several nodes; the server '"
                  + role
                  + "' runs on one (leave nodes out, or scale it in its manifest)"));
    } else if (r.gpu() == null) {
      problems.add(
          at.problem(
              rolePath + ".nodes",
              r.nodes()
                  + " nodes need 'gpu' set too: it is the GPUs of each node, and so the trainer"
                  + " processes each node runs"));
    }
  }

  private static void checkQuantity(
      String quantity, String path, SourceMap at, List<Problem> problems) {
    if (quantity == null) {
      return;
    }
    if (!QUANTITY.matcher(quantity).matches()) {
      problems.add(
          at.problem(
              path, "'" + quantity + "' is not a positive quantity such as 4, 500m or 16Gi"));
      return;
    }
    String digits = quantity.replaceAll("[^0-9.]", "");
    if (quantity.matches("\\+?[0-9.]+[eE][0-9]+")) {
      digits = quantity.replaceAll("[eE].*", "").replace("+", "");
    }
    if (digits.replace(".", "").chars().allMatch(c -> c == '0')) {
      problems.add(
          at.problem(path, "must be positive, got " + quantity + " (leave it out for none)"));
    }
  }

  private static void checkCarry(
      Recipe recipe, int index, SourceMap at, FrameworkCatalog catalog, List<Problem> problems) {
    Phase phase = recipe.phases().get(index);
    if (phase.optimizer().state() != OptimizerState.CARRY) {
      return;
    }
    String path = "phases[" + index + "].optimizer.state";
    if (index == 0) {
      problems.add(
          at.problem(
              path,
              "carry needs a previous phase; the first phase starts with a fresh optimizer (use reset)"));
      return;
    }
    Phase previous = recipe.phases().get(index - 1);
    if (!catalog.frameworks().containsKey(previous.framework())
        || !catalog.frameworks().containsKey(phase.framework())) {
      return; // the unknown framework is the problem to report, not the carry
    }
    if (!Objects.equals(previous.framework(), phase.framework())) {
      problems.add(
          at.problem(
              path,
              "carry needs the previous phase '"
                  + previous.name()
                  + "' to use the same framework, but it uses "
                  + previous.framework()
                  + " and this phase "
                  + phase.framework()
                  + " (use reset)"));
      return;
    }
    FrameworkCatalog.Framework framework = catalog.frameworks().get(phase.framework());
    if (framework == null) {
      return;
    }
    for (String key : framework.trainableKeys()) {
      Object here = phase.config().get(key);
      Object there = previous.config().get(key);
      if (!Objects.equals(here, there)) {
        problems.add(
            at.problem(
                path,
                "carry needs the same trainable parameters as phase '"
                    + previous.name()
                    + "', but config."
                    + key
                    + " is "
                    + shown(here)
                    + " here and "
                    + shown(there)
                    + " there (use reset)"));
        return;
      }
    }
  }

  private static String shown(Object value) {
    return value == null ? "not set" : String.valueOf(value);
  }

  private static void checkSchedule(Recipe recipe, SourceMap at, List<Problem> problems) {
    Schedule schedule = recipe.schedule();
    long total = schedule.totalSteps();
    if (total < 1) {
      return;
    }
    List<Phase> phases = recipe.phases();
    List<StepRange> ranges = schedule.resolve(phases);
    Double previousUntil = null;
    for (int i = 0; i < phases.size(); i++) {
      Phase phase = phases.get(i);
      String path = "phases[" + i + "]";
      if (phase.until() != null && phase.steps() != null) {
        problems.add(at.problem(path + ".steps", "give either 'until' or 'steps', not both"));
        return;
      }
      if (phase.until() != null) {
        double until = phase.until();
        if (!(until > 0 && until <= 1)) {
          problems.add(at.problem(path + ".until", "must be a time in (0, 1], got " + until));
          return;
        }
        if (previousUntil != null && until <= previousUntil) {
          problems.add(
              at.problem(
                  path + ".until",
                  until + " must be greater than the previous phase's " + previousUntil));
          return;
        }
        previousUntil = until;
      } else if (phase.steps() != null) {
        if (phase.steps() < 1) {
          problems.add(at.problem(path + ".steps", "must be at least 1, got " + phase.steps()));
          return;
        }
        previousUntil = schedule.timeAt(ranges.get(i).end());
      }
      StepRange range = ranges.get(i);
      if (range.end() > total) {
        problems.add(
            at.problem(
                path + (phase.steps() != null ? ".steps" : ".until"),
                "the phases so far cover "
                    + range.end()
                    + " steps, more than schedule.total_steps "
                    + total));
        return;
      }
      if (range.isEmpty()) {
        problems.add(
            at.problem(
                path + (phase.steps() != null ? ".steps" : ".until"),
                "covers no steps: it starts and ends at step " + range.start() + " of " + total));
        return;
      }
    }
    long end = ranges.get(ranges.size() - 1).end();
    if (end < total) {
      int last = phases.size() - 1;
      Phase phase = phases.get(last);
      String field = phase.until() != null ? ".until" : ".steps";
      String hint = phase.until() != null ? " (the last phase must have until: 1.0)" : "";
      problems.add(
          at.problem(
              "phases[" + last + "]" + field,
              "steps [" + end + ", " + total + ") are not covered by any phase" + hint));
    }
  }
}
