package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.worker.EmbeddedTemporal;
import dev.syllabus.worker.Paths;
import dev.syllabus.worker.SyllabusWorker;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records the histories the replay test ({@code workflows/…/ReplayTest}) checks: real runs of the
 * demo on the embedded Temporal, with the local backend and the real trainer. Not part of the
 * normal build; re-record after a deliberate, versioned workflow change with
 *
 * <pre>
 * mvn -q verify -pl starter -am -Drecord.histories=true -Drecord.prefix=baseline -Dtest=RecordHistoriesTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@EnabledIfSystemProperty(named = "record.histories", matches = "true")
class RecordHistoriesTest {
  private static final Path OUT = Cli.REPO.resolve("workflows/src/test/resources/histories");

  /**
   * What the recorded workflow ids start with: keep the histories of older workflow code by
   * recording new ones under a new prefix ({@code -Drecord.prefix=v3}).
   */
  private static final String PREFIX = System.getProperty("record.prefix", "replay");

  private static final String DEMO = PREFIX + "-demo";
  private static final String SIGNALS = PREFIX + "-signals";
  private static final String CONTROLS = PREFIX + "-controls";

  @TempDir Path home;

  @Test
  void recordTheDemoPlainAndWithSignals() throws Exception {
    Paths paths = new Paths(Cli.REPO, home);
    try (EmbeddedTemporal server = EmbeddedTemporal.start(0);
        Temporal temporal = Temporal.connect(server.address(), "default", Duration.ofSeconds(10))) {
      temporal.registerSearchAttributes();
      try (SyllabusWorker worker =
          SyllabusWorker.start(temporal, SyllabusWorker.localBackend(paths))) {
        WorkflowClient client = temporal.client();

        Recipe demo = RecipeFiles.load(paths, "recipes/demo.yaml", List.of());
        RunCommand.start(client, demo, DEMO);
        RunStatus plain = result(client, DEMO);
        assertEquals(RunState.COMPLETED, plain.state());
        save(client, DEMO, demo);

        CurriculumWorkflow run = RunCommand.start(client, demo, SIGNALS);
        await(client, SIGNALS, s -> s.phases().get(0).step() >= 300);
        run.pause("recording");
        await(client, SIGNALS, s -> s.phases().get(0).state() == PhaseState.PAUSED);
        run.resume(null);
        await(
            client,
            SIGNALS,
            s -> s.phaseIndex() == 1 && s.phases().get(1).state() == PhaseState.RUNNING);
        run.advance("recording");
        await(
            client,
            SIGNALS,
            s -> s.phaseIndex() == 2 && s.phases().get(2).state() == PhaseState.RUNNING);
        run.skip("recording");
        RunStatus signalled = result(client, SIGNALS);
        assertEquals(
            List.of(PhaseState.COMPLETED, PhaseState.ADVANCED, PhaseState.SKIPPED),
            signalled.phases().stream().map(p -> p.state()).toList());
        save(client, SIGNALS, demo);

        // The same controls as Workflow Updates, as `syllabus pause` and the others send them.
        run = RunCommand.start(client, demo, CONTROLS);
        await(client, CONTROLS, s -> s.phases().get(0).checkpoint() != null);
        assertEquals(PhaseState.PAUSED, run.pauseRun("recording").phaseState());
        run.resumeRun(null);
        assertEquals(PhaseState.ADVANCED, run.advancePhase("recording").phaseState());
        await(
            client,
            CONTROLS,
            s -> s.phaseIndex() == 1 && s.phases().get(1).state() == PhaseState.RUNNING);
        assertEquals(PhaseState.SKIPPED, run.skipPhase("recording").phaseState());
        RunStatus controlled = result(client, CONTROLS);
        assertEquals(
            List.of(PhaseState.ADVANCED, PhaseState.SKIPPED, PhaseState.COMPLETED),
            controlled.phases().stream().map(p -> p.state()).toList());
        save(client, CONTROLS, demo);
      }
    }
  }

  private static RunStatus result(WorkflowClient client, String id) {
    return WorkflowStub.fromTyped(client.newWorkflowStub(CurriculumWorkflow.class, id))
        .getResult(RunStatus.class);
  }

  private static void await(WorkflowClient client, String id, Predicate<RunStatus> condition)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!condition.test(RunView.fetch(client, id))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting on " + id);
      }
      Thread.sleep(100);
    }
  }

  private static void save(WorkflowClient client, String runId, Recipe recipe) throws Exception {
    Files.createDirectories(OUT);
    write(client, runId);
    for (int i = 0; i < recipe.phases().size(); i++) {
      String child = Names.phaseWorkflowId(runId, i, recipe.phases().get(i).name());
      try {
        write(client, child);
      } catch (RuntimeException e) {
        // A phase skipped before it started has no workflow.
      }
    }
  }

  private static void write(WorkflowClient client, String workflowId) throws Exception {
    Files.writeString(
        OUT.resolve(workflowId + ".json"), client.fetchHistory(workflowId).toJson(true));
  }
}
