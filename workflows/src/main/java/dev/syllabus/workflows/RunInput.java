package dev.syllabus.workflows;

import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.RunStatus;

/**
 * The input of {@link CurriculumWorkflow}.
 *
 * @param recipe the validated recipe
 * @param settings how the run is followed
 * @param carried the state of an earlier run of this workflow that continued as new, or the phases
 *     a retry takes over from the run it retries; null for a new run
 * @param retryOf the run this one retries ({@code syllabus retry}), or null
 */
public record RunInput(Recipe recipe, RunSettings settings, RunStatus carried, RetryOf retryOf) {

  public RunInput {
    settings = settings == null ? RunSettings.DEFAULTS : settings;
  }

  public RunInput(Recipe recipe, RunSettings settings, RunStatus carried) {
    this(recipe, settings, carried, null);
  }

  public static RunInput of(Recipe recipe) {
    return new RunInput(recipe, RunSettings.DEFAULTS, null);
  }

  public RunInput withCarried(RunStatus status) {
    return new RunInput(recipe, settings, status, retryOf);
  }
}
