package dev.syllabus.starter;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.ArtifactRef.Kind;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "render",
    description = {
      "Print the Kubernetes YAML a run would apply (a dry run; nothing is started).",
      "Each phase's framework manifests from kubeconfigs/ with names, labels, resources,",
      "image, the SYLLABUS_* environment and its config injected. Later phases are shown",
      "as they would start: from the previous phase's final checkpoint."
    })
final class RenderCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", description = "the recipe file")
  String recipe;

  @Option(
      names = "--phase",
      paramLabel = "NAME",
      description = "render only this phase (default: all)")
  String phase;

  @Option(
      names = "--gpu",
      paramLabel = "N",
      description = "GPUs for the train workload of the rendered phase(s)")
  Integer gpu;

  @Option(
      names = "--image",
      paramLabel = "IMAGE",
      description = "image for the train workload of the rendered phase(s)")
  String image;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description = "override a recipe field, e.g. phases[grpo].optimizer.lr=1.0e-6")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--id",
      paramLabel = "RUN_ID",
      defaultValue = "dry-run",
      description = "the run id names are derived from (default ${DEFAULT-VALUE})")
  String runId;

  @Override
  public Integer call() {
    String idProblem = Names.checkRunId(runId);
    if (idProblem != null) {
      throw new Exit.BadInput("--id: " + idProblem);
    }
    if (gpu != null && gpu < 1) {
      throw new Exit.BadInput("--gpu: must be a positive whole number, got " + gpu);
    }
    if (image != null && (image.isBlank() || image.matches(".*\\s.*"))) {
      throw new Exit.BadInput(
          "--image: must be an image reference without spaces, got '" + image + "'");
    }
    Recipe first = RecipeFiles.load(parent.paths, recipe, overrides);
    List<String> all = new ArrayList<>(overrides);
    List<Phase> selected = new ArrayList<>();
    for (Phase p : first.phases()) {
      if (phase == null || p.name().equals(phase)) {
        selected.add(p);
        if (gpu != null) {
          all.add("phases[" + p.name() + "].resources.train.gpu=" + gpu);
        }
        if (image != null) {
          all.add("phases[" + p.name() + "].image=" + image);
        }
      }
    }
    if (selected.isEmpty()) {
      throw new Exit.BadInput(
          "--phase: no phase '"
              + phase
              + "' in "
              + recipe
              + " (phases: "
              + String.join(", ", first.phases().stream().map(Phase::name).toList())
              + ")");
    }
    Recipe r = all.size() == overrides.size() ? first : RecipeFiles.load(parent.paths, recipe, all);
    Renderer renderer =
        new Renderer(new Kubeconfigs(RecipeFiles.kubeconfigsFor(parent.paths, recipe)));
    PrintWriter out = spec.commandLine().getOut();
    for (int i = 0; i < r.phases().size(); i++) {
      Phase p = r.phases().get(i);
      if (phase != null && !p.name().equals(phase)) {
        continue;
      }
      out.print(renderPhase(renderer, r, i, runId, recipe));
    }
    return Exit.OK;
  }

  /**
   * Phase {@code i} of {@code r} as run {@code runId} would apply it: a comment line naming the
   * phase, then its objects as YAML. {@code source} names the recipe in messages.
   */
  static String renderPhase(Renderer renderer, Recipe r, int i, String runId, String source) {
    List<StepRange> ranges = r.stepRanges();
    Phase p = r.phases().get(i);
    PhaseTask task =
        new PhaseTask(
            runId,
            r.name(),
            i,
            p,
            ranges.get(i),
            r.schedule().totalSteps(),
            inputOf(r, runId, i, ranges),
            dataFor(r, i),
            RunSettings.DEFAULTS.reportEveryMillis(),
            0,
            null);
    RenderedPhase rendered;
    try {
      rendered = renderer.render(task, 1);
    } catch (Kubeconfigs.Broken e) {
      throw new Exit.BadInput(e.toString());
    } catch (IllegalArgumentException e) {
      throw new Exit.BadInput(source + ": phases[" + i + "]: " + e.getMessage());
    }
    return "# phase "
        + i
        + " '"
        + p.name()
        + "': "
        + p.frameworkWorkload()
        + ", steps "
        + ranges.get(i)
        + "\n"
        + rendered.toYaml();
  }

  /**
   * What phase {@code i} would start from: the recipe's base model, or the final checkpoint of the
   * previous phase, had it completed.
   */
  static Triplet inputOf(Recipe r, String runId, int i, List<StepRange> ranges) {
    if (i == 0) {
      return new Triplet(
          r.model() == null ? null : ArtifactRef.external(Kind.MODEL, r.model().base()),
          null,
          null);
    }
    Phase previous = r.phases().get(i - 1);
    String path =
        Names.phaseFolder(runId, i - 1, previous.name())
            + "/checkpoint-"
            + ranges.get(i - 1).length();
    long step = ranges.get(i - 1).end();
    return new Triplet(
        new ArtifactRef(Kind.MODEL, path, path, previous.name(), step, null),
        new ArtifactRef(Kind.OPTIMIZER, path, path, previous.name(), step, null),
        null);
  }

  static DataSpec dataFor(Recipe r, int i) {
    for (int j = i; j >= 0; j--) {
      if (r.phases().get(j).data() != null) {
        return r.phases().get(j).data();
      }
    }
    return null;
  }
}
