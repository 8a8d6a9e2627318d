package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Loading recipes from YAML: the same object as code-first, YAML's quirks, and line numbers. */
class RecipeLoaderTest {

  /** Every field a recipe has. Line numbers matter: tests below name them. */
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
          data:
            datasets:
              - {path: org/sft-mix, type: chat_template}
              - {path: org/extra, split: train, weight: 0.25}
          optimizer: {name: adamw_torch, lr: 2.0e-5, state: reset}
          config:
            sequence_len: 4096
            seed: 10000000000
            warmup: 0.1
            shift: -3
            packing: true
            lora: {r: 16, targets: [q, v], dropout: 0.05}
            schedule: [{at: 0, lr: 1}, {at: 100, lr: 0.5}]
          retries: 5
        - name: medium
          until: 0.65
          framework: tiny
          workload: train
          optimizer: {lr: 1.0e-5}
        - name: grpo
          until: 1.0
          framework: tiny
          workload: train
          resources:
            train:
              gpu: 6
          optimizer: {lr: 1.0e-6, state: carry}
      """;

  private static final FrameworkCatalog TINY =
      FrameworkCatalog.of(
          "kubeconfigs/",
          new FrameworkCatalog.Framework("tiny", Map.of("train", Set.of("train")), List.of()));

  // --- code-first and YAML ------------------------------------------------------------------

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
                            List.of(
                                Map.of("path", "org/sft-mix", "type", "chat_template"),
                                Map.of("path", "org/extra", "split", "train", "weight", 0.25))))
                    .optimizer(new OptimizerSpec("adamw_torch", 2.0e-5, OptimizerState.RESET))
                    .config("sequence_len", 4096)
                    .config("seed", 10_000_000_000L)
                    .config("warmup", 0.1)
                    .config("shift", -3)
                    .config("packing", true)
                    .config("lora", Map.of("r", 16, "targets", List.of("q", "v"), "dropout", 0.05))
                    .config(
                        "schedule", List.of(Map.of("at", 0, "lr", 1), Map.of("at", 100, "lr", 0.5)))
                    .retries(5))
            .phase(
                Phase.builder("medium")
                    .until(0.65)
                    .framework("tiny", "train")
                    .optimizer(new OptimizerSpec(null, 1.0e-5, OptimizerState.RESET)))
            .phase(
                Phase.builder("grpo")
                    .until(1.0)
                    .framework("tiny", "train")
                    .resources("train", WorkloadResources.gpus(6))
                    .optimizer(new OptimizerSpec(null, 1.0e-6, OptimizerState.CARRY)))
            .build();

    assertEquals(built, RecipeLoader.parse("r.yaml", FULL).recipe());
  }

  @Test
  void codeFirstAndYamlAgreeOnTFromStepCounts() throws Exception {
    Recipe built =
        Recipe.builder("steps")
            .phase(Phase.builder("a").steps(100).framework("tiny", "train"))
            .phase(Phase.builder("b").steps(250).framework("tiny", "train"))
            .build();
    String yaml =
        """
        name: steps
        phases:
          - {name: a, steps: 100, framework: tiny, workload: train}
          - {name: b, steps: 250, framework: tiny, workload: train}
        """;
    assertEquals(built, RecipeLoader.parse("r.yaml", yaml).recipe());
  }

  // --- YAML 1.1 -------------------------------------------------------------------------------

  @Test
  void learningRateWrittenWithoutADotIsStillANumber() throws Exception {
    Recipe r = RecipeLoader.parse("r.yaml", FULL.replace("lr: 2.0e-5", "lr: 1e-5")).recipe();
    assertEquals(1e-5, r.phases().get(0).optimizer().lr());
  }

  // --- --set ----------------------------------------------------------------------------------

  @Test
  void setAddressesAPhaseByIndex() throws Exception {
    Recipe r = RecipeLoader.parse("r.yaml", FULL, List.of("phases[1].retries=1")).recipe();
    assertEquals(1, r.phases().get(1).retries());
  }

  @Test
  void setAddressesAPhaseByName() throws Exception {
    Recipe r =
        RecipeLoader.parse("r.yaml", FULL, List.of("phases[medium].optimizer.lr=1e-4")).recipe();
    assertEquals(1e-4, r.phases().get(1).optimizer().lr());
  }

  @Test
  void setCreatesMissingMappings() throws Exception {
    Recipe r =
        RecipeLoader.parse("r.yaml", FULL, List.of("phases[medium].resources.train.gpu=4"))
            .recipe();
    assertEquals(Map.of("train", WorkloadResources.gpus(4)), r.phases().get(1).resources());
  }

  @Test
  void setLeavesTheOtherPhasesAlone() throws Exception {
    Recipe original = RecipeLoader.parse("r.yaml", FULL).recipe();
    Recipe changed =
        RecipeLoader.parse("r.yaml", FULL, List.of("phases[medium].resources.train.gpu=4"))
            .recipe();
    assertEquals(original.phases().get(0), changed.phases().get(0));
    assertEquals(original.phases().get(2), changed.phases().get(2));
  }

  // --- line numbers ---------------------------------------------------------------------------

  @Test
  void loaderProblemsNameTheLinesTheyAreOn() {
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
            new Problem("r.yaml", 27, "phases[0].retries", "expected a whole number, got 'many'"),
            new Problem("r.yaml", 34, "phases[2].until", "expected a number, got 'soon'")),
        e.problems());
  }

  @Test
  void aPhaseWithoutANameIsAProblemOnItsLine() {
    RecipeException e =
        assertThrows(
            RecipeException.class,
            () ->
                RecipeLoader.parse(
                    "r.yaml", FULL.replace("- name: medium\n    until: 0.65", "- until: 0.65")));
    assertEquals(1, e.problems().size(), e.problems().toString());
    Problem problem = e.problems().get(0);
    assertEquals(28, problem.line());
    assertTrue(problem.toString().contains("phases[1]"), problem.toString());
    assertTrue(problem.toString().contains("name"), problem.toString());
  }

  @Test
  void aDatasetWithoutAPathNamesItsLine() {
    RecipeException e =
        assertThrows(
            RecipeException.class,
            () -> RecipeLoader.parse("r.yaml", FULL.replace("{path: org/extra,", "{")));
    assertEquals(
        List.of(
            new Problem(
                "r.yaml", 17, "phases[0].data.datasets[1].path", "every dataset needs a 'path'")),
        e.problems());
  }

  @Test
  void validatorProblemsNameTheLoadersLines() throws Exception {
    RecipeLoader.Loaded loaded =
        RecipeLoader.parse("r.yaml", FULL.replace("gpu: 8", "gpu: -8").replace("gpu: 6", "gpu: 0"));
    List<Problem> problems = RecipeValidator.validate(loaded.recipe(), loaded.sources(), TINY);
    assertEquals(
        List.of(13, 39), problems.stream().map(Problem::line).toList(), problems.toString());
    assertEquals(
        List.of("phases[0].resources.train.gpu", "phases[2].resources.train.gpu"),
        problems.stream().map(Problem::path).toList());
  }

  @Test
  void validatorProblemsWithASetValueNameTheSet() throws Exception {
    RecipeLoader.Loaded loaded =
        RecipeLoader.parse("r.yaml", FULL, List.of("schedule.total_steps=0"));
    List<Problem> problems = RecipeValidator.validate(loaded.recipe(), loaded.sources(), TINY);
    assertEquals(
        List.of(
            new Problem(
                "--set schedule.total_steps=0",
                0,
                "schedule.total_steps",
                "must be at least 1, got 0")),
        problems);
  }

  // --- nodes ----------------------------------------------------------------------------------

  private static final String NODES =
      """
      name: nodes
      phases:
        - name: sft
          steps: 100
          framework: tiny
          workload: grpo
          resources:
            train: {gpu: 8, nodes: 4}
            vllm: {gpu: 1}
      """;

  private static final FrameworkCatalog SERVERS =
      FrameworkCatalog.of(
          "kubeconfigs/",
          new FrameworkCatalog.Framework(
              "tiny", Map.of("grpo", Set.of("train", "vllm")), List.of()));

  private static List<Problem> nodeProblems(String yaml) throws Exception {
    RecipeLoader.Loaded loaded = RecipeLoader.parse("r.yaml", yaml);
    return RecipeValidator.validate(loaded.recipe(), loaded.sources(), SERVERS);
  }

  @Test
  void theTrainerAsksForSeveralNodes() throws Exception {
    Recipe r = RecipeLoader.parse("r.yaml", NODES).recipe();
    assertEquals(
        new WorkloadResources(8, null, null, 4), r.phases().get(0).resources().get("train"));
    assertEquals(1, r.phases().get(0).resources().get("vllm").nodes());
    assertEquals(List.of(), nodeProblems(NODES));
  }

  @Test
  void nodesLeftOutIsOne() {
    assertEquals(1, new WorkloadResources(8, null, null, null).nodes());
    assertEquals(new WorkloadResources(8, null, null, 1), WorkloadResources.gpus(8));
  }

  @Test
  void zeroNodesNamesItsLine() throws Exception {
    assertEquals(
        List.of(
            new Problem(
                "r.yaml",
                8,
                "phases[0].resources.train.nodes",
                "must be a whole number of at least 1, got 0")),
        nodeProblems(NODES.replace("nodes: 4", "nodes: 0")));
  }

  @Test
  void fractionalNodesAreNotAWholeNumber() {
    RecipeException e =
        assertThrows(
            RecipeException.class,
            () -> RecipeLoader.parse("r.yaml", NODES.replace("nodes: 4", "nodes: 1.5")));
    assertEquals(1, e.problems().size(), e.problems().toString());
    Problem p = e.problems().get(0);
    assertEquals(8, p.line());
    assertEquals("phases[0].resources.train.nodes", p.path());
    assertTrue(p.message().contains("whole number"), p.message());
  }

  @Test
  void aServerCannotSpanNodes() throws Exception {
    List<Problem> problems =
        nodeProblems(NODES.replace("vllm: {gpu: 1}", "vllm: {gpu: 1, nodes: 2}"));
    assertEquals(1, problems.size(), problems.toString());
    assertEquals(9, problems.get(0).line());
    assertEquals("phases[0].resources.vllm.nodes", problems.get(0).path());
    assertTrue(problems.get(0).message().contains("only the trainer"), problems.get(0).message());
  }

  @Test
  void severalNodesNeedGpus() throws Exception {
    List<Problem> problems = nodeProblems(NODES.replace("{gpu: 8, nodes: 4}", "{nodes: 4}"));
    assertEquals(1, problems.size(), problems.toString());
    assertEquals("phases[0].resources.train.nodes", problems.get(0).path());
    assertTrue(problems.get(0).message().contains("'gpu'"), problems.get(0).message());
  }

  @Test
  void nodesCanBeSet() throws Exception {
    Recipe r =
        RecipeLoader.parse("r.yaml", FULL, List.of("phases[sft].resources.train.nodes=2")).recipe();
    assertEquals(2, r.phases().get(0).resources().get("train").nodes());
  }
}
