package dev.syllabus.workflows;

import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.RunStatus;

/**
 * The input of {@link CurriculumWorkflow}.
 *
 * @param recipe the validated recipe
 * @param settings how the run is followed
 * @param carried the state of an earlier run of this workflow that continued as new, or null
 */
public record RunInput(Recipe recipe, RunSettings settings, RunStatus carried) {

  public RunInput {
    settings = settings == null ? RunSettings.DEFAULTS : settings;
  }

  public static RunInput of(Recipe recipe) {
    return new RunInput(recipe, RunSettings.DEFAULTS, null);
  }

  public RunInput withCarried(RunStatus status) {
    return new RunInput(recipe, settings, status);
  }
}
