package dev.syllabus.starter;

import dev.syllabus.workflows.recipe.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "validate",
    description = {
      "Check a recipe before anything is started.",
      "Prints `ok: <n> phases, <T> steps`, or one line per problem as",
      "FILE:LINE: <field>: <what is wrong>, and exits 2."
    })
final class ValidateCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", description = "the recipe file, e.g. recipes/demo.yaml")
  String recipe;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description = "override a field, e.g. phases[1].optimizer.lr=1.0e-5")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() {
    RecipeFiles.Checked checked = RecipeFiles.check(parent.paths, recipe, overrides);
    if (!checked.ok()) {
      for (Problem p : checked.problems()) {
        spec.commandLine().getErr().println(p);
      }
      return Exit.BAD_INPUT;
    }
    spec.commandLine()
        .getOut()
        .printf(
            "ok: %d phases, %d steps%n",
            checked.recipe().phases().size(), checked.recipe().schedule().totalSteps());
    return Exit.OK;
  }
}
