package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --set} overrides on recipes that share blocks through YAML anchors and aliases. */
class RecipeOverridesTest {

  private static final String SHARED =
      """
      name: shared
      schedule: {total_steps: 100}
      phases:
        - {name: a, until: 0.5, framework: tiny, workload: train, config: &c {pace: 10, hidden: 8}}
        - {name: b, until: 1.0, framework: tiny, workload: train, config: *c}
      """;

  @Test
  void anOverrideInsideAnAliasedBlockChangesOnlyTheNamedPhase() throws Exception {
    Recipe r =
        RecipeLoader.parse("shared.yaml", SHARED, List.of("phases[a].config.pace=40")).recipe();
    assertEquals(40, r.phases().get(0).config().get("pace"));
    assertEquals(10, r.phases().get(1).config().get("pace"));
    assertEquals(8, r.phases().get(1).config().get("hidden"));
  }

  @Test
  void withoutOverridesAliasesStillShareTheirValues() throws Exception {
    Recipe r = RecipeLoader.parse("shared.yaml", SHARED).recipe();
    assertEquals(r.phases().get(0).config(), r.phases().get(1).config());
  }
}
