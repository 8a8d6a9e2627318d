package dev.syllabus.testbed;

import static dev.syllabus.testbed.Testbed.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records the histories of a run whose phase has servers, for the replay test ({@code
 * workflows/…/ReplayTest}): SFT, then GRPO with its vLLM and rewards servers, paused while it
 * trains (its servers scale to zero) and resumed (they start again before its Job). The local
 * backend cannot run servers, so these come from the testbed; the starter's {@code
 * RecordHistoriesTest} records the rest. Not part of the normal build: see docs/development.md.
 *
 * <pre>
 * mvn -q verify -pl testbed -am -Drecord.histories=true -Drecord.prefix=baseline \
 *     -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=RecordHistoriesIT
 * </pre>
 */
@EnabledIfSystemProperty(named = "record.histories", matches = "true")
@Timeout(600)
class RecordHistoriesIT {
  private static final Path OUT = Testbed.REPO.resolve("workflows/src/test/resources/histories");
  private static final String PREFIX = System.getProperty("record.prefix", "replay");

  @TempDir Path artifacts;

  @Test
  void recordAPhaseWithServersPausedAndResumed() throws Exception {
    String id = PREFIX + "-servers";
    Recipe recipe = PhasesIT.recipe(2000, PhasesIT.sft(0.3), PhasesIT.grpo());
    try (Backend syllabus = new Backend("record", artifacts)) {
      syllabus.start(id, recipe);
      eventually(
          "grpo trains",
          Duration.ofMinutes(3),
          () -> syllabus.status(id).phaseIndex() == 1 && syllabus.phase(id, 1).step() >= 700);
      syllabus.run(id).pause("recording");
      eventually(
          "grpo is paused",
          Duration.ofMinutes(3),
          () -> syllabus.phase(id, 1).state() == PhaseState.PAUSED);
      syllabus.run(id).resume(null);
      RunStatus done = syllabus.finish(id);
      assertEquals(RunState.COMPLETED, done.state(), done.toString());

      Files.createDirectories(OUT);
      write(syllabus, id);
      for (int i = 0; i < recipe.phases().size(); i++) {
        write(syllabus, Names.phaseWorkflowId(id, i, recipe.phases().get(i).name()));
      }
      assertEquals(List.of(PhaseState.COMPLETED, PhaseState.COMPLETED), states(done));
    }
  }

  private static List<PhaseState> states(RunStatus status) {
    return status.phases().stream().map(p -> p.state()).toList();
  }

  private static void write(Backend syllabus, String workflowId) throws Exception {
    Files.writeString(
        OUT.resolve(workflowId + ".json"), syllabus.temporal.fetchHistory(workflowId).toJson(true));
  }
}
