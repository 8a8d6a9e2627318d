package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus validate}: every kind of bad recipe gets one clear line per problem naming file,
 * line and field, exit code 2, and nothing on standard output. The repository is a temporary copy
 * of the real {@code kubeconfigs/}, so the catalog is the real one.
 */
@Timeout(30)
class ValidateCommandTest {

  /** Lines 1 to 17; a test that appends a line appends line 18, to the phase {@code hard}. */
  private static final String GOOD =
      """
      name: demo
      schedule:
        total_steps: 3000
      phases:
        - name: easy
          until: 0.3
          framework: tiny
          workload: train
        - name: medium
          until: 0.65
          framework: tiny
          workload: train
          optimizer: {state: carry}
        - name: hard
          until: 1.0
          framework: tiny
          workload: train
      """;

  private static final String BAD_NAME =
      " is not a valid Kubernetes name: use lower-case letters, digits and '-', starting and"
          + " ending with a letter or digit";

  @TempDir Path repo;
  private Cli cli;

  @BeforeEach
  void repositoryWithTheRealKubeconfigs() throws Exception {
    Path source = Cli.REPO.resolve("kubeconfigs");
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path target = repo.resolve("kubeconfigs").resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target);
        }
      }
    }
    cli = new Cli(repo, repo.resolve("home"));
  }

  // --- a good recipe ------------------------------------------------------------------------

  @Test
  void aGoodRecipeSaysHowManyPhasesAndSteps() throws Exception {
    Cli.Result result = validate(GOOD);
    assertEquals(0, result.exitCode(), result.err());
    assertEquals("ok: 3 phases, 3000 steps\n", result.out());
    assertEquals("", result.err());
  }

  @Test
  void theDemoRecipeIsValid() {
    Cli.Result result = new Cli(repo.resolve("home")).run("validate", "recipes/demo.yaml");
    assertEquals("ok: 3 phases, 3000 steps\n", result.out(), result.err());
  }

  // --- structure: keys, types, required fields ----------------------------------------------

  @Test
  void unknownKeyIsNamedWithItsLineAndASuggestion() throws Exception {
    rejected(
        validate(good("optimizer: {state: carry}", "optimzer: {state: carry}")),
        "r.yaml:13: phases[1].optimzer: unknown key; did you mean 'optimizer'? (known keys: config,"
            + " data, deadlines, framework, image, name, optimizer, priority, pull_latest, queue,"
            + " resources, retries, steps, until, workload)");
  }

  @Test
  void unknownTopLevelKeyIsAnError() throws Exception {
    rejected(
        validate(GOOD + "artifacts: {root: /tmp}\n"),
        "r.yaml:18: artifacts: unknown key (known keys: description, model, name, phases,"
            + " schedule)");
  }

  @Test
  void wrongTypeSaysWhatWasExpected() throws Exception {
    rejected(
        validate(good("total_steps: 3000", "total_steps: abc")),
        "r.yaml:3: schedule.total_steps: expected a whole number, got 'abc'");
  }

  @Test
  void phaseWithoutFrameworkNamesTheMissingKey() throws Exception {
    rejected(
        validate(
            good(
                "    framework: tiny\n    workload: train\n  - name: medium",
                "    workload: train\n  - name: medium")),
        "r.yaml:5: phases[0].framework: missing required key 'framework'");
  }

  @Test
  void missingPhasesAreReportedOnce() throws Exception {
    rejected(
        validate("name: demo\nschedule: {total_steps: 10}\n"),
        "r.yaml:1: phases: missing required key 'phases'");
  }

  // --- the schedule ---------------------------------------------------------------------------

  @Test
  void overlappingScheduleNamesThePreviousPhasesTime() throws Exception {
    rejected(
        validate(good("until: 0.65", "until: 0.2")),
        "r.yaml:10: phases[1].until: 0.2 must be greater than the previous phase's 0.3");
  }

  @Test
  void uncoveredScheduleNamesTheUncoveredSteps() throws Exception {
    rejected(
        validate(good("until: 1.0", "until: 0.9")),
        "r.yaml:15: phases[2].until: steps [2700, 3000) are not covered by any phase (the last"
            + " phase must have until: 1.0)");
  }

  @Test
  void stepCountsBeyondTotalStepsAreAnError() throws Exception {
    rejected(
        validate(good("until: 0.3", "steps: 2000").replace("until: 0.65", "steps: 1500")),
        "r.yaml:10: phases[1].steps: the phases so far cover 3500 steps, more than"
            + " schedule.total_steps 3000");
  }

  @Test
  void phaseThatCoversNoStepsIsAnError() throws Exception {
    rejected(
        validate(good("total_steps: 3000", "total_steps: 3").replace("until: 0.65", "until: 0.34")),
        "r.yaml:10: phases[1].until: covers no steps: it starts and ends at step 1 of 3");
  }

  @Test
  void untilAndStepsTogetherAreAnError() throws Exception {
    rejected(
        validate(good("until: 0.3", "until: 0.3\n    steps: 900")),
        "r.yaml:7: phases[0].steps: give either 'until' or 'steps', not both");
  }

  // --- frameworks, workloads, resources -------------------------------------------------------

  @Test
  void missingFrameworkListsTheKnownOnes() throws Exception {
    rejected(
        validate(good("framework: tiny", "framework: nemo")),
        "r.yaml:7: phases[0].framework: no framework 'nemo' under kubeconfigs/ (there are:"
            + " axolotl, noop, tiny, verifiers)");
  }

  @Test
  void missingWorkloadListsTheKnownOnes() throws Exception {
    rejected(
        validate(good("workload: train", "workload: sft")),
        "r.yaml:8: phases[0].workload: no workload 'sft' under kubeconfigs/tiny/ (there are:"
            + " train)");
  }

  @Test
  void resourcesForARoleTheWorkloadDoesNotHaveAreAnError() throws Exception {
    rejected(
        validate(GOOD + "    resources: {vllm: {gpu: 1}}\n"),
        "r.yaml:18: phases[2].resources.vllm: the workload tiny/train has no role 'vllm' (it has:"
            + " train)");
  }

  @Test
  void zeroGpusAreNotPositive() throws Exception {
    rejected(
        validate(GOOD + "    resources: {train: {gpu: 0}}\n"),
        "r.yaml:18: phases[2].resources.train.gpu: must be a positive whole number, got 0 (leave"
            + " it out for none)");
  }

  @Test
  void aTrainerOnSeveralNodesIsValid() throws Exception {
    Cli.Result result = validate(GOOD + "    resources: {train: {gpu: 8, nodes: 4}}\n");
    assertEquals("ok: 3 phases, 3000 steps\n", result.out(), result.err());
  }

  @Test
  void zeroNodesAreAnError() throws Exception {
    rejected(
        validate(GOOD + "    resources: {train: {gpu: 8, nodes: 0}}\n"),
        "r.yaml:18: phases[2].resources.train.nodes: must be a whole number of at least 1, got 0");
  }

  @Test
  void nodesMustBeAWholeNumber() throws Exception {
    rejected(
        validate(GOOD + "    resources: {train: {gpu: 8, nodes: two}}\n"),
        "r.yaml:18: phases[2].resources.train.nodes: expected a whole number, got 'two'");
  }

  @Test
  void severalNodesNeedGpusPerNode() throws Exception {
    rejected(
        validate(GOOD + "    resources: {train: {nodes: 2}}\n"),
        "r.yaml:18: phases[2].resources.train.nodes: 2 nodes need 'gpu' set too: it is the GPUs"
            + " of each node, and so the trainer processes each node runs");
  }

  @Test
  void aServerCannotSpanNodes() throws Exception {
    rejected(
        validate(
            good(
                    "  - name: hard\n    until: 1.0\n    framework: tiny\n    workload: train\n",
                    "  - name: hard\n    until: 1.0\n    framework: axolotl\n    workload: grpo\n")
                + "    resources: {vllm: {gpu: 1, nodes: 2}}\n"),
        "r.yaml:18: phases[2].resources.vllm.nodes: only the trainer (resources.train) can span"
            + " several nodes; the server 'vllm' runs on one (leave nodes out, or scale it in its"
            + " manifest)");
  }

  @Test
  void cpuAndMemoryMustBePositiveQuantities() throws Exception {
    rejected(
        validate(GOOD + "    resources: {train: {cpu: \"0\", memory: -1Gi}}\n"),
        "r.yaml:18: phases[2].resources.train.cpu: must be positive, got 0 (leave it out for none)",
        "r.yaml:18: phases[2].resources.train.memory: '-1Gi' is not a positive quantity such as"
            + " 4, 500m or 16Gi");
  }

  @Test
  void memoryThatIsNotAQuantityIsAnError() throws Exception {
    rejected(
        validate(GOOD + "    resources: {train: {memory: abc}}\n"),
        "r.yaml:18: phases[2].resources.train.memory: 'abc' is not a positive quantity such as 4,"
            + " 500m or 16Gi");
  }

  // --- queues ---------------------------------------------------------------------------------

  @Test
  void aPriorityClassInAQueueIsValid() throws Exception {
    Cli.Result result = validate(GOOD + "    queue: team-a\n    priority: high.batch\n");
    assertEquals(0, result.exitCode(), result.err());
  }

  @Test
  void aPriorityWithoutAQueueIsAnError() throws Exception {
    rejected(
        validate(GOOD + "    priority: high\n"),
        "r.yaml:18: phases[2].priority: needs 'queue': a Kueue WorkloadPriorityClass applies only"
            + " to a Job in a Kueue queue");
  }

  @Test
  void aPriorityMustBeAnObjectName() throws Exception {
    rejected(
        validate(GOOD + "    queue: team-a\n    priority: High_1\n"),
        "r.yaml:19: phases[2].priority: 'High_1' is not a valid WorkloadPriorityClass name: use"
            + " lower-case letters, digits, '-' and '.', starting and ending with a letter or"
            + " digit");
  }

  // --- names --------------------------------------------------------------------------------

  @Test
  void recipeNameWithCapitalsIsNotAKubernetesName() throws Exception {
    rejected(validate(good("name: demo", "name: Demo")), "r.yaml:1: name: 'Demo'" + BAD_NAME);
  }

  @Test
  void phaseNameWithAnUnderscoreIsNotAKubernetesName() throws Exception {
    rejected(
        validate(good("name: hard", "name: hard_one")),
        "r.yaml:14: phases[2].name: 'hard_one'" + BAD_NAME);
  }

  @Test
  void phaseNameLongerThanFortyCharactersIsAnError() throws Exception {
    String long41 = "a".repeat(41);
    rejected(
        validate(good("name: easy", "name: " + long41)),
        "r.yaml:5: phases[0].name: '" + long41 + "' is longer than 40 characters");
  }

  @Test
  void duplicatePhaseNamesAreAnError() throws Exception {
    rejected(
        validate(good("name: hard", "name: easy")),
        "r.yaml:14: phases[2].name: 'easy' is already the name of phases[0]");
  }

  // --- the optimizer ------------------------------------------------------------------------

  @Test
  void carryAcrossFrameworksIsAnError() throws Exception {
    addFramework("other", "train");
    rejected(
        validate(
            good(
                "framework: tiny\n    workload: train\n    optimizer",
                "framework: other\n    workload: train\n    optimizer")),
        "r.yaml:13: phases[1].optimizer.state: carry needs the previous phase 'easy' to use the"
            + " same framework, but it uses tiny and this phase other (use reset)");
  }

  @Test
  void carryOnTheFirstPhaseIsAnError() throws Exception {
    rejected(
        validate(
            good(
                "workload: train\n  - name: medium",
                "workload: train\n    optimizer: {state: carry}\n  - name: medium")),
        "r.yaml:9: phases[0].optimizer.state: carry needs a previous phase; the first phase starts"
            + " with a fresh optimizer (use reset)");
  }

  @Test
  void carryWithDifferentTrainableParametersIsAnError() throws Exception {
    String yaml =
        good(
                "workload: train\n  - name: medium",
                "workload: train\n    config: {hidden: 32}\n  - name: medium")
            .replace("{state: carry}", "{state: carry}\n    config: {hidden: 64}");
    rejected(
        validate(yaml),
        "r.yaml:14: phases[1].optimizer.state: carry needs the same trainable parameters as phase"
            + " 'easy', but config.hidden is 64 here and 32 there (use reset)");
  }

  @Test
  void unknownOptimizerStateIsAnError() throws Exception {
    rejected(
        validate(good("{state: carry}", "{state: keep}")),
        "r.yaml:13: phases[1].optimizer.state: must be carry or reset, got 'keep'");
  }

  @Test
  void nonPositiveLearningRateIsAnError() throws Exception {
    rejected(
        validate(good("{state: carry}", "{state: carry, lr: 0}")),
        "r.yaml:13: phases[1].optimizer.lr: must be a positive number, got 0.0");
  }

  // --- the file itself ----------------------------------------------------------------------

  @Test
  void badIndentationNamesItsLine() throws Exception {
    rejected(
        validate("name: demo\nschedule:\n  total_steps: 3000\n phases: []\n"),
        "r.yaml:4: invalid YAML: the indentation does not fit here (a key indented more or less"
            + " than the keys around it?)");
  }

  @Test
  void unclosedBracketNamesTheLineItOpensOn() throws Exception {
    rejected(
        validate("name: demo\nphases: [a, b\n"),
        "r.yaml:2: invalid YAML: while parsing a flow sequence, expected ',' or ']', but got"
            + " <stream end> (an unclosed [ or {?)");
  }

  @Test
  void unclosedQuoteNamesTheLineItOpensOn() throws Exception {
    rejected(
        validate("name: \"demo\nphases: []\n"),
        "r.yaml:1: invalid YAML: a quote opened here is never closed");
  }

  @Test
  void emptyFileIsAnError() throws Exception {
    rejected(validate(""), "r.yaml:1: the file is empty; a recipe needs at least name and phases");
  }

  @Test
  void fileOfOnlyCommentsIsEmpty() throws Exception {
    rejected(
        validate("# nothing yet\n# still nothing\n"),
        "r.yaml:1: the file is empty; a recipe needs at least name and phases");
  }

  @Test
  void aliasBombIsRefusedAtOnce() throws Exception {
    StringBuilder bomb = new StringBuilder(GOOD + "    config:\n      l0: &l0 [lol");
    bomb.append(", lol".repeat(9)).append("]\n");
    for (int i = 1; i <= 9; i++) {
      String alias = "*l" + (i - 1);
      bomb.append(
          "      l%d: &l%d [%s]\n"
              .formatted(i, i, String.join(", ", Collections.nCopies(10, alias))));
    }
    Cli.Result result = validate(bomb.toString());
    rejected(
        result,
        "r.yaml: too many YAML aliases (at most 20 are allowed in a recipe; this looks like an"
            + " alias bomb)");
  }

  @Test
  void recipeThatExpandsPastTheNodeLimitIsRefusedAtOnce() throws Exception {
    validate(GOOD);
    // 20 aliases, each level doubling the one below: about a million nodes.
    StringBuilder yaml = new StringBuilder(GOOD + "    config:\n      d0: &d0 [1");
    yaml.append(", 1".repeat(999)).append("]\n");
    for (int i = 1; i <= 10; i++) {
      yaml.append("      d%d: &d%d [*d%d, *d%d]\n".formatted(i, i, i - 1, i - 1));
    }
    Cli.Result result = validate(yaml.toString());
    assertEquals(2, result.exitCode(), result.err());
    assertNoStackTrace(result);
    assertTrue(
        result.err().contains("the recipe expands to more than 100000 YAML nodes"), result.err());
    assertEquals(
        "r.yaml: the recipe expands to more than 100000 YAML nodes (an alias bomb?)",
        result.err().strip());
  }

  @Test
  void hugeFileIsRefusedWithItsSize() throws Exception {
    rejected(
        validate("# " + "y".repeat(2 * 1024 * 1024 - 3) + "\n"),
        "r.yaml: the file has 2,097,152 bytes; a recipe may have at most 1,048,576 (1 MiB)");
  }

  @Test
  void missingFileIsBadInput() {
    rejected(cli.run("validate", "nope.yaml"), "nope.yaml: no such file");
  }

  @Test
  void folderIsNotARecipe() throws Exception {
    Path folder = Files.createDirectories(repo.resolve("recipes"));
    rejected(cli.run("validate", folder.toString()), folder + ": is a folder, not a recipe file");
  }

  @Test
  void fileThatIsNotUtf8IsBadInput() throws Exception {
    Files.write(
        repo.resolve("latin.yaml"), "name: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
    rejected(cli.run("validate", "latin.yaml"), "latin.yaml: is not UTF-8 text");
  }

  @Test
  void secondDocumentInOneFileIsAnError() throws Exception {
    rejected(
        validate(GOOD + "---\nname: other\n"),
        "r.yaml:18: a recipe is one YAML document, but a second one starts here (a '---' line)");
  }

  // --- --set ----------------------------------------------------------------------------------

  @Test
  void badSetValueIsReportedAgainstTheSetArgument() throws Exception {
    rejected(
        validate(GOOD, "--set", "schedule.total_steps=lots"),
        "--set schedule.total_steps=lots: schedule.total_steps: expected a whole number, got"
            + " 'lots'");
  }

  @Test
  void setValueThatBreaksTheScheduleIsReportedAgainstTheSetArgument() throws Exception {
    rejected(
        validate(GOOD, "--set", "phases[1].until=0.1"),
        "--set phases[1].until=0.1: phases[1].until: 0.1 must be greater than the previous"
            + " phase's 0.3");
  }

  @Test
  void setForAPhaseThatDoesNotExistIsAnError() throws Exception {
    rejected(
        validate(GOOD, "--set", "phases[warmup].until=0.1"),
        "--set phases[warmup].until=0.1: phases[warmup]: no such item (the list has 3)");
  }

  @Test
  void setCanRepairARecipe() throws Exception {
    Cli.Result result =
        validate(good("until: 1.0", "until: 0.9"), "--set", "phases[hard].until=1.0");
    assertEquals(0, result.exitCode(), result.err());
    assertEquals("ok: 3 phases, 3000 steps\n", result.out());
  }

  // --- several problems -----------------------------------------------------------------------

  @Test
  void everyProblemInAFileIsReportedOnItsOwnLine() throws Exception {
    String yaml =
        good("name: demo", "name: Demo").replace("until: 0.65", "until: 0.2")
            + "    resources: {train: {gpu: 0}}\n";
    rejected(
        validate(yaml),
        "r.yaml:1: name: 'Demo'" + BAD_NAME,
        "r.yaml:10: phases[1].until: 0.2 must be greater than the previous phase's 0.3",
        "r.yaml:18: phases[2].resources.train.gpu: must be a positive whole number, got 0 (leave"
            + " it out for none)");
  }

  @Test
  void aMisspelledRequiredKeyIsOneProblemNotTwo() throws Exception {
    rejected(
        validate(good("total_steps: 3000", "total_step: 3000")),
        "r.yaml:3: schedule.total_step: unknown key; did you mean 'total_steps'? (known keys:"
            + " total_steps)");
  }

  @Test
  void aTabInTheIndentationIsNamed() throws Exception {
    rejected(
        validate(good("  - name: hard", "\t- name: hard")),
        "r.yaml:14: invalid YAML: a tab here; YAML indents with spaces only");
  }

  @Test
  void badYamlInASetValueIsSaidInPlainWords() throws Exception {
    rejected(
        validate(GOOD, "--set", "phases[1].config={a: ["),
        "--set phases[1].config={a: [: phases[1].config: the value is not valid YAML: while parsing"
            + " a flow node, expected the node content, but found '<stream end>'");
  }

  @Test
  void aBrokenManifestUnderKubeconfigsIsNamedNotThrown() throws Exception {
    Files.writeString(repo.resolve("kubeconfigs/tiny/train/broken.yaml"), "kind: [ConfigMap\n");
    Cli.Result result = validate(GOOD);
    assertEquals(2, result.exitCode(), result.err());
    assertNoStackTrace(result);
    assertTrue(
        result.err().startsWith("kubeconfigs/tiny/train/broken.yaml: not a Kubernetes manifest: "),
        result.err());
    assertEquals(1, result.err().strip().lines().count(), result.err());
  }

  // --- helpers --------------------------------------------------------------------------------

  private Cli.Result validate(String yaml, String... extra) throws Exception {
    Files.writeString(repo.resolve("r.yaml"), yaml);
    return cli.run(
        Stream.concat(Stream.of("validate", "r.yaml"), Stream.of(extra)).toArray(String[]::new));
  }

  /** Exit 2, nothing on stdout, no stack trace, and exactly these lines on stderr. */
  private static void rejected(Cli.Result result, String... lines) {
    assertEquals(2, result.exitCode(), result.err());
    assertEquals("", result.out());
    assertNoStackTrace(result);
    assertEquals(String.join("\n", lines), result.err().strip());
  }

  private static void assertNoStackTrace(Cli.Result result) {
    assertFalse(
        result.err().lines().anyMatch(l -> l.contains("Exception") || l.contains("\tat ")),
        result.err());
  }

  /** {@link #GOOD} with the first {@code from} replaced by {@code to}. */
  private static String good(String from, String to) {
    assertTrue(GOOD.contains(from), from);
    return GOOD.replaceFirst(Pattern.quote(from), Matcher.quoteReplacement(to));
  }

  /** A second framework folder in the temporary kubeconfigs/, with one workload of role train. */
  private void addFramework(String framework, String workload) throws Exception {
    Path folder =
        Files.createDirectories(repo.resolve("kubeconfigs").resolve(framework).resolve(workload));
    Files.writeString(
        folder.resolve("job.yaml"),
        """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: other, labels: {syllabus.dev/role: train}}
        spec: {template: {spec: {restartPolicy: Never, containers: [{name: t, image: x}]}}}
        """);
  }
}
