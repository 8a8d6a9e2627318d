package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A recipe written by {@link RecipeYaml} loads as an equal recipe. */
class RecipeYamlTest {

  private static Recipe load(String source, String text) throws RecipeException {
    return RecipeLoader.parse(source, text).recipe();
  }

  @Test
  void theRepositorysRecipesReadBackEqual() throws Exception {
    for (String file : List.of("demo.yaml", "sft-then-grpo.yaml")) {
      Recipe recipe = load(file, Files.readString(Path.of("..", "recipes", file)));
      assertEquals(recipe, load(file, RecipeYaml.write(recipe)), file);
    }
  }

  @Test
  void numbersTextThatLooksLikeOtherValuesAndEveryFieldReadBackEqual() throws Exception {
    Recipe recipe =
        Recipe.builder("odd")
            .description("yes")
            .totalSteps(1000)
            .baseModel("123")
            .phase(
                Phase.builder("a")
                    .steps(400)
                    .framework("tiny", "train")
                    .image("img:1")
                    .pullLatest(true)
                    .resources("train", new WorkloadResources(2, "500m", "1Gi", 3))
                    .data(DataSpec.of("on", "0x10"))
                    .optimizer(
                        new OptimizerSpec("adam", 1.0e10, OptimizerSpec.OptimizerState.RESET))
                    .config("lr_min", 1.0e-12)
                    .config("flag", "no")
                    .config("nested", java.util.Map.of("list", List.of(1, 2.5, "x")))
                    .retries(0)
                    .deadlines(new Deadlines(90_000, 0))
                    .queue("q")
                    .priority("low"))
            .phase(
                Phase.builder("b")
                    .steps(600)
                    .framework("tiny", "train")
                    .optimizer(new OptimizerSpec(null, null, OptimizerSpec.OptimizerState.CARRY)))
            .build();

    assertEquals(recipe, load("odd", RecipeYaml.write(recipe)));
  }
}
