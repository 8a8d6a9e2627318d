package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.syllabus.activities.record.RunRecords;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where recipes differ, named by the paths {@code --set} takes. */
class RecipeDifferencesTest {

  private static JsonNode json(String text) throws Exception {
    return RunView.JSON.readTree(text);
  }

  @Test
  void aRecipeFlattensIntoThePathsSetTakes() throws Exception {
    JsonNode recipe =
        RunRecords.read(CompareCommandTest.fixture(CompareCommandTest.A)).resolvedRecipe();

    Map<String, JsonNode> settings = RecipeDifferences.flatten(recipe);

    assertEquals(0.01, settings.get("phases[1].optimizer.lr").asDouble());
    assertEquals("synthetic:waves-hard", settings.get("phases[2].data.datasets[0].path").asText());
    assertEquals(3000, settings.get("schedule.totalSteps").asInt());
    assertTrue(settings.get("model").isNull(), "a null setting is a setting");
  }

  @Test
  void theDemoRunsDifferInTheirLearningRateOnly() throws Exception {
    JsonNode a = RunRecords.read(CompareCommandTest.fixture(CompareCommandTest.A)).resolvedRecipe();
    JsonNode b = RunRecords.read(CompareCommandTest.fixture(CompareCommandTest.B)).resolvedRecipe();

    List<RecipeDifferences.Difference> differences = RecipeDifferences.between(List.of(a, b));

    assertEquals(
        List.of("phases[1].optimizer.lr"),
        differences.stream().map(RecipeDifferences.Difference::path).toList());
    assertEquals("[0.01, 0.003]", differences.get(0).values().toString());
  }

  @Test
  void aSettingOnlyOneRecipeHasDiffersAndIsMissingInTheOthers() throws Exception {
    List<RecipeDifferences.Difference> differences =
        RecipeDifferences.between(
            List.of(
                json("{\"phases\": [{\"name\": \"a\"}]}"),
                json("{\"phases\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}")));

    assertEquals(1, differences.size());
    assertEquals("phases[1].name", differences.get(0).path());
    assertNull(differences.get(0).values().get(0));
    assertEquals("–", RecipeDifferences.shown(differences.get(0).values().get(0)));
    assertEquals("b", RecipeDifferences.shown(differences.get(0).values().get(1)));
  }

  @Test
  void aKeyThatIsNotAPlainNameIsQuoted() throws Exception {
    Map<String, JsonNode> settings =
        RecipeDifferences.flatten(json("{\"config\": {\"lora.r\": 8, \"a b\": {}, \"list\": []}}"));

    assertEquals(
        List.of("config[\"lora.r\"]", "config[\"a b\"]", "config.list"),
        List.copyOf(settings.keySet()));
  }

  @Test
  void identicalRecipesHaveNoDifferences() throws Exception {
    JsonNode a = RunRecords.read(CompareCommandTest.fixture(CompareCommandTest.A)).resolvedRecipe();

    assertEquals(List.of(), RecipeDifferences.between(List.of(a, a.deepCopy())));
  }
}
