package dev.syllabus.starter;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Problem;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "recipes",
    description = {
      "List the recipes in recipes/, or show one in detail.",
      "",
      "The list: name, phases, steps, the most GPUs a phase asks for, and",
      "description. One recipe: each phase's steps, optimizer and data, and",
      "the image and GPUs of each of its workloads (the trainer, vLLM and",
      "rewards servers) and its Services, from the recipe and its manifests."
    },
    footer = {
      "",
      "Examples:",
      "  syllabus recipes",
      "  syllabus recipes sft-then-grpo        # a name in recipes/, or a file",
      "  syllabus recipes recipes/demo.yaml --json"
    })
final class RecipesCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      arity = "0..1",
      paramLabel = "RECIPE",
      description = "show this recipe: a name in recipes/ or a recipe file")
  String recipe;

  @Option(names = "--json", description = "print JSON (for scripts)")
  boolean json;

  /** One line of the list: a recipe file, or why it does not load. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Listed(
      String name,
      String file,
      Integer phases,
      Long totalSteps,
      Integer gpus,
      String description,
      String problem) {}

  /** One phase in detail. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record PhaseInfo(
      int index,
      String name,
      String framework,
      String workload,
      long stepStart,
      long stepEnd,
      long steps,
      double tStart,
      double tEnd,
      int gpus,
      List<WorkloadObject> workloads,
      List<String> services,
      String optimizer,
      Double lr,
      String optimizerState,
      List<String> datasets,
      int retries,
      String queue,
      String priority) {}

  /** A recipe in detail. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record RecipeInfo(
      String name,
      String file,
      String description,
      long totalSteps,
      String model,
      int gpus,
      List<PhaseInfo> phases) {}

  @Override
  public Integer call() throws JsonProcessingException {
    PrintWriter out = spec.commandLine().getOut();
    if (recipe == null) {
      List<Listed> listed = list();
      out.print(json ? RunView.JSON.writeValueAsString(listed) + "\n" : table(listed));
      return Exit.OK;
    }
    String file = resolve(recipe);
    Recipe r = RecipeFiles.load(parent.paths, file, List.of());
    RecipeInfo info =
        describe(r, file, new Kubeconfigs(RecipeFiles.kubeconfigsFor(parent.paths, file)));
    out.print(json ? RunView.JSON.writeValueAsString(info) + "\n" : text(info));
    return Exit.OK;
  }

  private List<Listed> list() {
    List<Listed> out = new ArrayList<>();
    for (Path file : recipeFiles()) {
      String shown = parent.paths.repo().relativize(file).toString();
      RecipeFiles.Checked checked = RecipeFiles.check(parent.paths, file.toString(), List.of());
      if (!checked.ok()) {
        Problem first = checked.problems().get(0);
        out.add(
            new Listed(
                null,
                shown,
                null,
                null,
                null,
                null,
                first.toString().replace(file.toString(), shown)));
        continue;
      }
      Recipe r = checked.recipe();
      Kubeconfigs kubeconfigs =
          new Kubeconfigs(RecipeFiles.kubeconfigsFor(parent.paths, file.toString()));
      out.add(
          new Listed(
              r.name(),
              shown,
              r.phases().size(),
              r.schedule().totalSteps(),
              peakGpus(r, kubeconfigs),
              r.description(),
              null));
    }
    return out;
  }

  private List<Path> recipeFiles() {
    return recipeFiles(parent.paths);
  }

  /** The recipe files in the repository's recipes/, by name. */
  static List<Path> recipeFiles(dev.syllabus.worker.Paths paths) {
    Path dir = paths.repo().resolve("recipes");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A recipe file as given, or the recipe of that name in recipes/. */
  private String resolve(String given) {
    if (Files.isRegularFile(parent.paths.recipe(given))) {
      return given;
    }
    for (Path file : recipeFiles()) {
      String name = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
      if (name.equals(given)) {
        return parent.paths.repo().relativize(file).toString();
      }
    }
    throw new Exit.BadInput(
        "no recipe '"
            + given
            + "': not a file, nor a recipe in "
            + parent.paths.repo().resolve("recipes")
            + " ("
            + String.join(
                ", ",
                recipeFiles().stream()
                    .map(f -> f.getFileName().toString().replaceFirst("\\.ya?ml$", ""))
                    .toList())
            + ")");
  }

  /** The most GPUs the recipe asks for at once: phases run one after the other. */
  static int peakGpus(Recipe r, Kubeconfigs kubeconfigs) {
    return r.phases().stream()
        .mapToInt(p -> WorkloadObject.totalGpus(WorkloadObject.of(kubeconfigs, p)))
        .max()
        .orElse(0);
  }

  static RecipeInfo describe(Recipe r, String file, Kubeconfigs kubeconfigs) {
    List<StepRange> ranges = r.stepRanges();
    List<PhaseInfo> phases = new ArrayList<>();
    for (int i = 0; i < r.phases().size(); i++) {
      Phase p = r.phases().get(i);
      StepRange range = ranges.get(i);
      List<WorkloadObject> workloads = WorkloadObject.of(kubeconfigs, p);
      DataSpec data = RenderCommand.dataFor(r, i);
      phases.add(
          new PhaseInfo(
              i,
              p.name(),
              p.framework(),
              p.workload(),
              range.start(),
              range.end(),
              range.length(),
              r.schedule().timeAt(range.start()),
              r.schedule().timeAt(range.end()),
              WorkloadObject.totalGpus(workloads),
              workloads,
              WorkloadObject.services(kubeconfigs, p.framework(), p.workload()),
              p.optimizer().name(),
              p.optimizer().lr(),
              p.optimizer().state().name().toLowerCase(Locale.ROOT),
              data == null
                  ? List.of()
                  : data.datasets().stream().map(d -> String.valueOf(d.get("path"))).toList(),
              p.retries(),
              p.queue(),
              p.priority()));
    }
    return new RecipeInfo(
        r.name(),
        file,
        r.description(),
        r.schedule().totalSteps(),
        r.model() == null ? null : r.model().base(),
        peakGpus(r, kubeconfigs),
        phases);
  }

  static String table(List<Listed> listed) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NAME", "PHASES", "STEPS", "GPUS", "DESCRIPTION"});
    for (Listed l : listed) {
      rows.add(
          l.problem() != null
              ? new String[] {"-", "-", "-", "-", "does not load: " + l.problem()}
              : new String[] {
                l.name(),
                String.valueOf(l.phases()),
                String.valueOf(l.totalSteps()),
                String.valueOf(l.gpus()),
                l.description()
              });
    }
    return columns(rows);
  }

  static String text(RecipeInfo info) {
    StringBuilder out = new StringBuilder();
    out.append(info.name()).append(" (").append(info.file()).append(")\n");
    if (!info.description().isBlank()) {
      out.append("  ").append(info.description()).append('\n');
    }
    out.append("  ")
        .append(info.totalSteps())
        .append(" steps")
        .append(info.model() == null ? "" : ", from model " + info.model())
        .append(", at most ")
        .append(info.gpus())
        .append(" GPUs at once\n");
    for (PhaseInfo p : info.phases()) {
      out.append(
          String.format(
              Locale.ROOT,
              "%nphase %d '%s': %s/%s, steps [%d, %d) (%d steps, t %.2f-%.2f), %d GPUs%n",
              p.index(),
              p.name(),
              p.framework(),
              p.workload(),
              p.stepStart(),
              p.stepEnd(),
              p.steps(),
              p.tStart(),
              p.tEnd(),
              p.gpus()));
      out.append("  optimizer ")
          .append(p.optimizer() == null ? "(the framework's)" : p.optimizer())
          .append(p.lr() == null ? "" : ", lr " + p.lr())
          .append(", state ")
          .append(p.optimizerState());
      if (!p.datasets().isEmpty()) {
        out.append("; data ").append(String.join(", ", p.datasets()));
      }
      out.append('\n');
      List<String[]> rows = new ArrayList<>();
      for (WorkloadObject w : p.workloads()) {
        rows.add(
            new String[] {
              "  " + w.role(),
              w.kind(),
              w.image(),
              w.gpus() + (w.gpus() == 1 ? " GPU" : " GPUs"),
              "train".equals(w.role()) ? "" : "server"
            });
      }
      out.append(columns(rows));
      if (!p.services().isEmpty()) {
        out.append("  services: ").append(String.join(", ", p.services())).append('\n');
      }
      if (p.queue() != null) {
        out.append("  queue ")
            .append(p.queue())
            .append(p.priority() == null ? "" : ", priority " + p.priority())
            .append('\n');
      }
    }
    return out.toString();
  }

  /** Rows as left-aligned columns, two spaces apart, without trailing spaces. */
  static String columns(List<String[]> rows) {
    int n = rows.stream().mapToInt(r -> r.length).max().orElse(0);
    int[] widths = new int[n];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i] == null ? 0 : row[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        String cell = row[i] == null ? "" : row[i];
        line.append(cell);
        if (i < row.length - 1) {
          line.append(" ".repeat(widths[i] - cell.length() + 2));
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }
}
