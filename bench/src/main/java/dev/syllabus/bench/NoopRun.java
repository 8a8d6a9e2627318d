package dev.syllabus.bench;

import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.RunStatus;
import java.io.PrintWriter;

/**
 * A curriculum of no-op phases, each the {@code noop} framework's job (which saves its last
 * checkpoint at once and exits), run to its end, and how long it took.
 */
record NoopRun(String id, RunStatus end, double seconds) {

  /** Runs a curriculum of {@code phases} no-op phases to its end, saying so in {@code log}. */
  static NoopRun run(Runs runs, PrintWriter log, String name, int phases) {
    String id = "bench-" + name + "-" + Runs.shortId();
    log.printf("%s: a curriculum of %d no-op phases …%n", name, phases);
    long started = System.nanoTime();
    runs.start(id, RunInput.of(recipe(name, phases)));
    RunStatus end = runs.await(id);
    return new NoopRun(id, end, (System.nanoTime() - started) / 1e9);
  }

  /** {@code phases} phases of 10 steps each, every one the {@code noop} framework's job. */
  static Recipe recipe(String name, int phases) {
    Recipe.Builder recipe =
        Recipe.builder("bench-" + name)
            .description("syllabus bench: " + phases + " no-op phases")
            .totalSteps(10L * phases);
    for (int i = 0; i < phases; i++) {
      recipe.phase(Phase.builder("p" + i).steps(10).framework("noop", "job"));
    }
    return recipe.build();
  }
}
