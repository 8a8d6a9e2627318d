package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.RecipeLoader;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.history.v1.History;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo recipe on the kubernetes backend: the real tiny trainer, shipped to the cluster in its
 * ConfigMap, runs in each phase's pod (as a local process played for the node), reads the job
 * contract from the pod's environment, and learns; each phase starts from the checkpoint the
 * previous one handed on through the artifact volume.
 */
@Timeout(600)
class TinyIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path artifacts;
  private Backend syllabus;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
  }

  @Test
  void theDemoCurriculumLearnsOnTheCluster() throws Exception {
    syllabus = new Backend("tiny", artifacts);
    Path file = Testbed.REPO.resolve("recipes/demo.yaml");
    Recipe recipe = RecipeLoader.parse(file.toString(), Files.readString(file)).recipe();
    syllabus.start("d1", recipe);
    RunStatus done = syllabus.finish("d1");
    assertEquals(RunState.COMPLETED, done.state(), done.toString());
    assertEquals(3000, done.step());

    List<Double> easy = evalLosses("d1/0-easy/checkpoint-900");
    List<Double> hard = evalLosses("d1/2-hard/checkpoint-1050");
    double start = easy.get(0);
    double end = hard.get(hard.size() - 1);
    assertTrue(end < start / 5, "held-out loss fell: from " + start + " to " + end);

    JsonNode medium = trainerState("d1/1-medium/checkpoint-1050").get("syllabus");
    assertTrue(medium.get("optimizer_loaded").asBoolean(), "medium carried easy's optimizer");
    assertTrue(
        medium.get("input_model").asText().endsWith("d1/0-easy/checkpoint-900"), medium.toString());
  }

  @Test
  void secretValuesNeverReachTheHistory() throws Exception {
    syllabus = new Backend("secret", artifacts);
    syllabus.start("s1", PhasesIT.recipe(50, PhasesIT.sft(1.0)));
    assertEquals(RunState.COMPLETED, syllabus.finish("s1").state());
    String token =
        new String(
            java.util.Base64.getDecoder()
                .decode(
                    syllabus
                        .kube()
                        .secrets()
                        .inNamespace(syllabus.ns)
                        .withName("hf-token")
                        .get()
                        .getData()
                        .get("token")),
            java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(token.length() > 10, token);
    for (String id : List.of("s1", Names.phaseWorkflowId("s1", 0, "sft"))) {
      History history = syllabus.temporal.fetchHistory(id).getHistory();
      assertFalse(history.toString().contains(token), "a Secret's value in the history of " + id);
      assertTrue(history.toString().contains("hf-token") || id.equals("s1"), "referred to by name");
    }
  }

  private JsonNode trainerState(String checkpoint) throws Exception {
    return JSON.readTree(artifacts.resolve(checkpoint).resolve("trainer_state.json").toFile());
  }

  private List<Double> evalLosses(String checkpoint) throws Exception {
    List<Double> losses = new ArrayList<>();
    for (JsonNode entry : trainerState(checkpoint).get("log_history")) {
      if (entry.has("eval_loss")) {
        losses.add(entry.get("eval_loss").asDouble());
      }
    }
    assertTrue(losses.size() >= 2, checkpoint + ": " + losses);
    return losses;
  }
}
