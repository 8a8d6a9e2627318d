package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code syllabus recipes} and {@code syllabus frameworks}: what the repository's files say. */
class DiscoveryCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path home;

  private Cli.Result run(String... args) {
    return new Cli(home).run(args);
  }

  @Test
  void recipesListsEachRecipeWithItsPhasesStepsAndGpus() {
    Cli.Result list = run("recipes");

    assertEquals(0, list.exitCode(), list.err());
    String[] lines = list.out().split("\n");
    assertEquals("NAME           PHASES  STEPS  GPUS  DESCRIPTION", lines[0]);
    assertTrue(lines[1].startsWith("demo           3       3000   0     A tiny MLP"), lines[1]);
    assertTrue(lines[2].startsWith("sft-then-grpo  2       3000   9     Qwen2.5"), lines[2]);
  }

  @Test
  void recipesJsonListsTheSameAsTheTable() throws Exception {
    JsonNode list = JSON.readTree(run("recipes", "--json").out());

    assertEquals("sft-then-grpo", list.get(1).get("name").asText());
    assertEquals("recipes/sft-then-grpo.yaml", list.get(1).get("file").asText());
    assertEquals(9, list.get(1).get("gpus").asInt());
  }

  @Test
  void aRecipeShowsEachPhasesWorkloadsImagesGpusAndServices() throws Exception {
    Cli.Result shown = run("recipes", "sft-then-grpo");

    assertEquals(0, shown.exitCode(), shown.err());
    assertTrue(
        shown
            .out()
            .contains(
                "phase 1 'grpo': verifiers/grpo, steps [900, 3000) (2100 steps, t 0.30-1.00),"
                    + " 9 GPUs\n"),
        shown.out());
    assertTrue(
        shown.out().contains("  train    Job         ghcr.io/example/verifiers:0.1     6 GPUs\n"),
        shown.out());
    assertTrue(shown.out().contains("  services: rewards, vllm\n"), shown.out());

    JsonNode json = JSON.readTree(run("recipes", "recipes/sft-then-grpo.yaml", "--json").out());
    JsonNode grpo = json.get("phases").get(1);
    assertEquals(2100, grpo.get("steps").asLong());
    assertEquals("vllm", grpo.at("/workloads/2/role").asText());
    assertEquals(2, grpo.at("/workloads/2/gpus").asInt());
    assertEquals("Qwen/Qwen2.5-7B-Instruct", json.get("model").asText());
  }

  @Test
  void anUnknownRecipeIsBadInput() {
    Cli.Result result = run("recipes", "nope");

    assertEquals(2, result.exitCode());
    assertTrue(result.err().startsWith("no recipe 'nope': not a file, nor a recipe in "));
    assertTrue(result.err().strip().endsWith("(demo, sft-then-grpo)"), result.err());
  }

  @Test
  void frameworksListsEachFolderWithItsWorkloadsAndRoles() throws Exception {
    Cli.Result list = run("frameworks");

    assertEquals(0, list.exitCode(), list.err());
    assertTrue(list.out().contains("tiny       train (train)"), list.out());
    JsonNode json = JSON.readTree(run("frameworks", "--json").out());
    JsonNode verifiers = json.get(3);
    assertEquals("verifiers", verifiers.get("name").asText());
    assertEquals("[\"rewards\",\"train\",\"vllm\"]", verifiers.at("/workloads/grpo").toString());
  }

  @Test
  void aFrameworkShowsItsSettingsWorkloadsAndTheRecipesThatUseIt() throws Exception {
    Cli.Result shown = run("frameworks", "verifiers");

    assertEquals(0, shown.exitCode(), shown.err());
    assertTrue(shown.out().contains("  used by: sft-then-grpo\n"), shown.out());
    assertTrue(shown.out().contains("  optimizer.lr -> learning_rate\n"), shown.out());
    JsonNode json = JSON.readTree(run("frameworks", "tiny", "--json").out());
    assertEquals("config.json", json.at("/settings/configFile").asText());
    assertEquals("python:3.11-slim", json.at("/workloads/0/objects/0/image").asText());

    Cli.Result unknown = run("frameworks", "tinny");
    assertEquals(2, unknown.exitCode());
    assertTrue(unknown.err().startsWith("no framework 'tinny' in "), unknown.err());
  }
}
