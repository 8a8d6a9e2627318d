package dev.syllabus.starter;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.syllabus.activities.FrameworkSettings;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.workflows.recipe.FrameworkCatalog;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "frameworks",
    description = {
      "List the framework folders in kubeconfigs/, or show one in detail.",
      "",
      "The list: each framework's workloads and the roles each runs. One",
      "framework: its config file, how recipe fields map onto its keys, its",
      "trainable keys, the recipes that use it, and per workload the image",
      "and GPUs of each object and its Services."
    },
    footer = {"", "Examples:", "  syllabus frameworks", "  syllabus frameworks verifiers --json"})
final class FrameworksCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      arity = "0..1",
      paramLabel = "FRAMEWORK",
      description = "show this framework (a folder of kubeconfigs/)")
  String framework;

  @Option(names = "--json", description = "print JSON (for scripts)")
  boolean json;

  /** One framework of the list: its workloads and the roles each runs. */
  record Listed(String name, Map<String, List<String>> workloads, List<String> trainable) {}

  /** One workload in detail. */
  record WorkloadInfo(String name, List<WorkloadObject> objects, List<String> services) {}

  /** A framework in detail. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record FrameworkInfo(
      String name,
      String folder,
      FrameworkSettings settings,
      List<WorkloadInfo> workloads,
      List<String> usedBy) {}

  @Override
  public Integer call() throws JsonProcessingException {
    PrintWriter out = spec.commandLine().getOut();
    Path root = parent.paths.kubeconfigs();
    Kubeconfigs kubeconfigs = new Kubeconfigs(root);
    FrameworkCatalog catalog;
    try {
      catalog = kubeconfigs.catalog();
    } catch (Kubeconfigs.Broken e) {
      throw new Exit.BadInput(e.toString());
    }
    if (framework == null) {
      List<Listed> listed = new ArrayList<>();
      for (FrameworkCatalog.Framework f : new java.util.TreeMap<>(catalog.frameworks()).values()) {
        Map<String, List<String>> workloads = new java.util.TreeMap<>();
        f.workloads().forEach((name, roles) -> workloads.put(name, List.copyOf(roles)));
        listed.add(new Listed(f.name(), workloads, f.trainableKeys()));
      }
      out.print(json ? RunView.JSON.writeValueAsString(listed) + "\n" : table(listed));
      return Exit.OK;
    }
    FrameworkCatalog.Framework f = catalog.frameworks().get(framework);
    if (f == null) {
      throw new Exit.BadInput(
          "no framework '"
              + framework
              + "' in "
              + root
              + " (frameworks: "
              + String.join(", ", new java.util.TreeSet<>(catalog.frameworks().keySet()))
              + ")");
    }
    List<WorkloadInfo> workloads = new ArrayList<>();
    for (String workload : new java.util.TreeSet<>(f.workloads().keySet())) {
      workloads.add(
          new WorkloadInfo(
              workload,
              WorkloadObject.of(kubeconfigs, framework, workload),
              WorkloadObject.services(kubeconfigs, framework, workload)));
    }
    FrameworkInfo info =
        new FrameworkInfo(
            framework,
            root.resolve(framework).toString(),
            kubeconfigs.settings(framework),
            workloads,
            usedBy(framework));
    out.print(json ? RunView.JSON.writeValueAsString(info) + "\n" : text(info));
    return Exit.OK;
  }

  /** The recipes in recipes/ with a phase on this framework. */
  private List<String> usedBy(String name) {
    List<String> out = new ArrayList<>();
    for (Path file : RecipesCommand.recipeFiles(parent.paths)) {
      RecipeFiles.Checked checked = RecipeFiles.check(parent.paths, file.toString(), List.of());
      Recipe r = checked.recipe();
      if (r != null && r.phases().stream().map(Phase::framework).anyMatch(name::equals)) {
        out.add(r.name());
      }
    }
    return out;
  }

  private static String table(List<Listed> listed) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"FRAMEWORK", "WORKLOADS (ROLES)", "TRAINABLE"});
    for (Listed f : listed) {
      List<String> workloads = new ArrayList<>();
      f.workloads()
          .forEach((name, roles) -> workloads.add(name + " (" + String.join(", ", roles) + ")"));
      rows.add(
          new String[] {
            f.name(),
            String.join(", ", workloads),
            f.trainable().isEmpty() ? "-" : String.join(", ", f.trainable())
          });
    }
    return RecipesCommand.columns(rows);
  }

  private static String text(FrameworkInfo info) {
    StringBuilder out = new StringBuilder();
    FrameworkSettings s = info.settings();
    out.append(info.name()).append(" (").append(info.folder()).append(")\n");
    out.append("  config: ")
        .append(s.configFile())
        .append(" (")
        .append(s.configFormat())
        .append(")\n");
    s.keys()
        .forEach(
            (from, to) -> out.append("  ").append(from).append(" -> ").append(to).append('\n'));
    s.serviceKeys()
        .forEach(
            (key, value) ->
                out.append("  ").append(key).append(" -> Service ").append(value).append('\n'));
    if (!s.trainable().isEmpty()) {
      out.append("  trainable: ").append(String.join(", ", s.trainable())).append('\n');
    }
    out.append("  used by: ")
        .append(
            info.usedBy().isEmpty() ? "no recipe in recipes/" : String.join(", ", info.usedBy()))
        .append('\n');
    for (WorkloadInfo w : info.workloads()) {
      out.append("\nworkload ").append(w.name()).append('\n');
      List<String[]> rows = new ArrayList<>();
      for (WorkloadObject o : w.objects()) {
        rows.add(
            new String[] {
              "  " + o.role(),
              o.kind(),
              o.name(),
              o.image(),
              o.gpus() + (o.gpus() == 1 ? " GPU" : " GPUs")
            });
      }
      out.append(RecipesCommand.columns(rows));
      if (!w.services().isEmpty()) {
        out.append("  services: ").append(String.join(", ", w.services())).append('\n');
      }
    }
    return out.toString();
  }
}
