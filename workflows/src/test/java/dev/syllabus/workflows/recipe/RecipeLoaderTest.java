package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Loading recipes from YAML: the same object as code-first, YAML's quirks, and line numbers. */
class RecipeLoaderTest {

  private static final String FULL =
      """
      name: sft-then-grpo
      description: SFT warm-up, then more
      schedule:
        total_steps: 3000
      model: {base: Qwen/Qwen2.5-7B-Instruct}
      phases:
        - name: sft
          until: 0.3
          framework: tiny
          workload: train
          image: ghcr.io/example/trainer:1906
          pull_latest: true
          resources: {train: {gpu: 8, cpu: 32, memory: 1600Gi}}
          data: {datasets: [{path: org/sft-mix, type: chat_template}]}
          optimizer: {name: adamw_torch, lr: 2.0e-5}
          config: {sequence_len: 4096, micro_batch_size: 2, lora: {r: 16, targets: [q, v]}, warmup: 0.1}
          retries: 5
        - name: grpo
          until: 1.0
          framework: tiny
          workload: train
          optimizer: {lr: 1.0e-6, state: carry}
      """;

  @Test
  void codeFirstAndYamlGiveEqualRecipes() throws Exception {
    Recipe built =
        Recipe.builder("sft-then-grpo")
            .description("SFT warm-up, then more")
            .totalSteps(3000)
            .baseModel("Qwen/Qwen2.5-7B-Instruct")
            .phase(
                Phase.builder("sft")
                    .until(0.3)
                    .framework("tiny", "train")
                    .image("ghcr.io/example/trainer:1906")
                    .pullLatest(true)
                    .resources("train", new WorkloadResources(8, "32", "1600Gi"))
                    .data(
                        new DataSpec(
                            List.of(Map.of("path", "org/sft-mix", "type", "chat_template"))))
                    .optimizer(new OptimizerSpec("adamw_torch", 2.0e-5, OptimizerState.RESET))
                    .config("sequence_len", 4096)
                    .config("micro_batch_size", 2)
                    .config("lora", Map.of("r", 16, "targets", List.of("q", "v")))
                    .config("warmup", 0.1)
                    .retries(5))
            .phase(
                Phase.builder("grpo")
                    .until(1.0)
                    .framework("tiny", "train")
                    .optimizer(new OptimizerSpec(null, 1.0e-6, OptimizerState.CARRY)))
            .build();

    assertEquals(built, RecipeLoader.parse("r.yaml", FULL).recipe());
  }

  @Test
  void aLearningRateWrittenAsYaml11TextIsStillANumber() throws Exception {
    Recipe r = RecipeLoader.parse("r.yaml", FULL.replace("lr: 2.0e-5", "lr: 1e-5")).recipe();
    assertEquals(1e-5, r.phases().get(0).optimizer().lr());
  }

  @Test
  void overridesAddressPhasesByIndexOrByName() throws Exception {
    Recipe r =
        RecipeLoader.parse(
                "r.yaml", FULL, List.of("phases[0].retries=1", "phases[grpo].optimizer.lr=3.0e-6"))
            .recipe();
    assertEquals(1, r.phases().get(0).retries());
    assertEquals(3.0e-6, r.phases().get(1).optimizer().lr());
  }

  @Test
  void anOverrideCreatesMissingMappings() throws Exception {
    Recipe r =
        RecipeLoader.parse("r.yaml", FULL, List.of("phases[grpo].resources.train.gpu=4")).recipe();
    assertEquals(WorkloadResources.gpus(4), r.phases().get(1).resources().get("train"));
  }

  @Test
  void problemsNameTheLinesTheyAreOn() {
    RecipeException e =
        assertThrows(
            RecipeException.class,
            () ->
                RecipeLoader.parse(
                    "r.yaml",
                    FULL.replace("retries: 5", "retries: many")
                        .replace("until: 1.0", "until: soon")));
    assertEquals(
        List.of(
            new Problem("r.yaml", 17, "phases[0].retries", "expected a whole number, got 'many'"),
            new Problem("r.yaml", 19, "phases[1].until", "expected a number, got 'soon'")),
        e.problems());
  }

  @Test
  void theValidatorUsesTheLoadersLines() throws Exception {
    RecipeLoader.Loaded loaded = RecipeLoader.parse("r.yaml", FULL.replace("gpu: 8", "gpu: -8"));
    FrameworkCatalog catalog =
        FrameworkCatalog.of(
            "kubeconfigs/",
            new FrameworkCatalog.Framework(
                "tiny", Map.of("train", java.util.Set.of("train")), List.of()));
    List<Problem> problems = RecipeValidator.validate(loaded.recipe(), loaded.sources(), catalog);
    assertEquals(1, problems.size(), problems.toString());
    assertEquals(13, problems.get(0).line());
    assertEquals("phases[0].resources.train.gpu", problems.get(0).path());
  }
}
