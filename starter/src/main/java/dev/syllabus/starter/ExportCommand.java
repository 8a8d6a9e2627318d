package dev.syllabus.starter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.local.LocalLaunch;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "export",
    description = {
      "Write a folder that runs a recipe on its own, outside this repository.",
      "",
      "It holds the recipe, the framework folders it uses (kubeconfigs/) with",
      "the files their manifests ship (e.g. examples/tiny/), each phase's",
      "rendered manifests (rendered/), pins.yaml (Syllabus version, images,",
      "GPUs) and a README.md with the commands. validate and render read the",
      "kubeconfigs/ folder beside a recipe."
    },
    footer = {
      "",
      "Example:",
      "  syllabus export recipes/demo.yaml --to /tmp/demo && cd /tmp/demo",
      "  syllabus validate demo.yaml && syllabus render demo.yaml --phase easy"
    })
final class ExportCommand implements Callable<Integer> {
  private static final ObjectMapper YAML =
      new ObjectMapper(
          new YAMLFactory()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", description = "the recipe file, e.g. recipes/demo.yaml")
  String recipe;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "DIR",
      description = "the folder to write; it must be empty or new")
  Path to;

  @Option(names = "--force", description = "write into DIR even when it is not empty")
  boolean force;

  @Override
  public Integer call() {
    Recipe r = RecipeFiles.load(parent.paths, recipe, List.of());
    Path source = parent.paths.recipe(recipe).toAbsolutePath().normalize();
    Path frameworks = RecipeFiles.kubeconfigsFor(parent.paths, recipe).toAbsolutePath().normalize();
    Path repo = frameworks.getParent();
    Path dir = to.toAbsolutePath().normalize();
    requireWritable(dir, repo);
    try {
      Files.createDirectories(dir);
      Files.copy(source, dir.resolve(source.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      TreeSet<String> used = new TreeSet<>(r.phases().stream().map(Phase::framework).toList());
      Kubeconfigs original = new Kubeconfigs(frameworks);
      for (String framework : used) {
        copyTree(frameworks.resolve(framework), dir.resolve("kubeconfigs").resolve(framework));
        for (String shipped : shippedPaths(original, framework)) {
          Path from = repo.resolve(shipped).normalize();
          if (!from.startsWith(repo) || from.startsWith(frameworks)) {
            continue; // outside the repository (the render refuses it), or copied already
          }
          copyTree(from, dir.resolve(repo.relativize(from)));
        }
      }
      Kubeconfigs exported = new Kubeconfigs(dir.resolve("kubeconfigs"));
      Renderer renderer = new Renderer(exported);
      Path rendered = dir.resolve("rendered");
      Files.createDirectories(rendered);
      for (int i = 0; i < r.phases().size(); i++) {
        Files.writeString(
            rendered.resolve(i + "-" + r.phases().get(i).name() + ".yaml"),
            RenderCommand.renderPhase(renderer, r, i, "dry-run", recipe));
      }
      Files.writeString(dir.resolve("pins.yaml"), pins(r, exported, recipe));
      Files.writeString(
          dir.resolve("README.md"), readme(r, exported, source.getFileName().toString()));
    } catch (IOException | UncheckedIOException e) {
      throw new Exit.Failed("cannot write " + dir + ": " + e.getMessage());
    }
    spec.commandLine()
        .getOut()
        .printf(
            "exported %s to %s: the recipe, %d framework folder(s), %d rendered phase(s),"
                + " pins.yaml, README.md%n",
            r.name(),
            dir,
            r.phases().stream().map(Phase::framework).distinct().count(),
            r.phases().size());
    return Exit.OK;
  }

  private void requireWritable(Path dir, Path repo) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new Exit.BadInput("--to: " + to + " is a file, not a folder");
    }
    if (dir.equals(repo) || repo.startsWith(dir)) {
      throw new Exit.BadInput("--to: " + to + " holds the frameworks being exported; pick another");
    }
    if (Files.isDirectory(dir) && !force) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new Exit.BadInput(
              "--to: " + to + " is not empty; export into a new folder, or add --force");
        }
      } catch (IOException e) {
        throw new Exit.BadInput("--to: cannot read " + to + ": " + e.getMessage());
      }
    }
  }

  /**
   * The repository files a framework's manifests use: what their ConfigMaps ship ({@value
   * Renderer#FILES_ANNOTATION}) and the folders the local backend maps ({@value
   * LocalLaunch#LOCAL_VOLUMES}).
   */
  private static List<String> shippedPaths(Kubeconfigs kubeconfigs, String framework) {
    List<String> paths = new ArrayList<>();
    Path root = kubeconfigs.root().resolve(framework);
    try (Stream<Path> workloads = Files.list(root)) {
      for (Path workload : workloads.filter(Files::isDirectory).sorted().toList()) {
        for (HasMetadata object :
            kubeconfigs.manifests(framework, workload.getFileName().toString())) {
          Map<String, String> annotations = object.getMetadata().getAnnotations();
          if (annotations == null) {
            continue;
          }
          for (String key : List.of(Renderer.FILES_ANNOTATION, LocalLaunch.LOCAL_VOLUMES)) {
            String value = annotations.get(key);
            if (value == null) {
              continue;
            }
            for (String entry : value.split(",")) {
              int eq = entry.indexOf('=');
              String path = (eq < 0 ? entry : entry.substring(eq + 1)).strip();
              if (!path.isEmpty()) {
                paths.add(path);
              }
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return paths;
  }

  /** Copies a file, or a folder with everything in it but Python's caches. */
  private static void copyTree(Path from, Path into) throws IOException {
    if (!Files.exists(from)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.sorted().toList()) {
        if (from.relativize(p).toString().contains("__pycache__")) {
          continue;
        }
        Path target = Files.isDirectory(from) ? into.resolve(from.relativize(p).toString()) : into;
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** {@code pins.yaml}: what this export was made with, to make the same runs again. */
  private static String pins(Recipe r, Kubeconfigs kubeconfigs, String source) throws IOException {
    ObjectNode pins = YAML.createObjectNode();
    pins.put("syllabus", Syllabus.Version.number());
    pins.put("recipe", r.name());
    pins.put("exported_from", source);
    if (r.model() != null) {
      pins.put("model", r.model().base());
    }
    ArrayNode phases = pins.putArray("phases");
    for (Phase p : r.phases()) {
      ObjectNode phase = phases.addObject();
      phase.put("name", p.name());
      phase.put("framework", p.framework());
      phase.put("workload", p.workload());
      ObjectNode workloads = phase.putObject("workloads");
      for (WorkloadObject w : WorkloadObject.of(kubeconfigs, p)) {
        ObjectNode o = workloads.putObject(w.role() == null ? w.name() : w.role());
        o.put("kind", w.kind());
        o.put("image", w.image());
        o.put("gpus", w.gpus());
      }
    }
    return "# What this folder was exported with: the Syllabus version, and each phase's images and\n"
        + "# GPUs as its rendered manifests (rendered/) have them.\n"
        + YAML.writeValueAsString(pins);
  }

  private static String readme(Recipe r, Kubeconfigs kubeconfigs, String file) {
    StringBuilder out = new StringBuilder();
    out.append("# ").append(r.name()).append("\n\n");
    if (!r.description().isBlank()) {
      out.append(r.description()).append("\n\n");
    }
    out.append(
            "Exported by `syllabus export`: this folder runs on its own, without the Syllabus"
                + " repository.\n\n")
        .append("| # | phase | framework/workload | steps | images | GPUs |\n")
        .append("|---|---|---|---|---|---|\n");
    List<StepRange> ranges = r.stepRanges();
    for (int i = 0; i < r.phases().size(); i++) {
      Phase p = r.phases().get(i);
      List<WorkloadObject> workloads = WorkloadObject.of(kubeconfigs, p);
      out.append("| ")
          .append(i)
          .append(" | ")
          .append(p.name())
          .append(" | ")
          .append(p.frameworkWorkload())
          .append(" | ")
          .append(ranges.get(i))
          .append(" | ")
          .append(
              String.join(
                  ", ", workloads.stream().map(w -> w.role() + ": `" + w.image() + "`").toList()))
          .append(" | ")
          .append(WorkloadObject.totalGpus(workloads))
          .append(" |\n");
    }
    out.append("\n## What is here\n\n")
        .append("- `")
        .append(file)
        .append("`: the recipe\n")
        .append(
            "- `kubeconfigs/`: the framework folders it uses, and beside them the files their"
                + " manifests ship (e.g. `examples/`)\n")
        .append(
            "- `rendered/`: each phase's Kubernetes objects as `syllabus render` prints them (run"
                + " id `dry-run`)\n")
        .append("- `pins.yaml`: the Syllabus version, and each phase's images and GPUs\n")
        .append("\n## Commands\n\n")
        .append(
            "`syllabus` is the launcher of a Syllabus checkout (`path/to/syllabus/syllabus`). It"
                + " reads the frameworks from `kubeconfigs/` beside the recipe:\n\n")
        .append("```sh\n")
        .append("syllabus validate ")
        .append(file)
        .append("\n")
        .append("syllabus render ")
        .append(file)
        .append("                # the same as rendered/\n")
        .append(
            "SYLLABUS_REPO=$PWD syllabus dev     # a local Temporal and a worker reading this"
                + " folder's frameworks\n")
        .append("syllabus run ")
        .append(file)
        .append(" --id x          # in another terminal\n")
        .append("```\n\n")
        .append(
            "On a cluster, start the worker with this folder as its `SYLLABUS_REPO` (or its"
                + " frameworks in its image): `SYLLABUS_REPO=$PWD syllabus worker --backend"
                + " kubernetes`.\n");
    return out.toString();
  }
}
