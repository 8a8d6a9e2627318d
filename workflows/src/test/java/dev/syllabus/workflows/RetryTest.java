package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A retry ({@link RetryPlan}) on Temporal's test server: a run whose second phase failed is run
 * again from that phase, from what its first phase handed on, and completes.
 */
@Timeout(60)
class RetryTest {
  private static final RunSettings FAST = new RunSettings(50, 0);

  private TestRuns runs;
  private FakeBackend backend;

  @BeforeEach
  void setUp() {
    runs = new TestRuns();
    backend = runs.backend();
  }

  @AfterEach
  void tearDown() {
    runs.close();
  }

  private RunStatus failedAtMedium(String id) {
    backend.failJobs("medium", 3);
    runs.start(id, TestRuns.demo(), FAST);
    assertThrows(WorkflowFailedException.class, () -> runs.finish(id));
    RunStatus failed = runs.status(id);
    assertEquals(RunState.FAILED, failed.state());
    return failed;
  }

  private void startRetry(String id, Recipe recipe, RetryPlan plan, RetryOf retryOf) {
    CurriculumWorkflow run =
        runs.client()
            .newWorkflowStub(
                CurriculumWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setWorkflowId(id)
                    .setTaskQueue(CurriculumWorkflow.TASK_QUEUE)
                    .build());
    WorkflowClient.start(run::run, new RunInput(recipe, FAST, plan.carried(), retryOf));
  }

  private List<FakeBackend.Job> jobsOf(String runId) {
    return backend.jobs.values().stream().filter(j -> j.ref.runId().equals(runId)).toList();
  }

  @Test
  void aRetryRunsOnlyFromTheFailedPhaseFromTheEarlierArtifactsAndCompletes() throws Exception {
    RunStatus failed = failedAtMedium("r1");
    String from = RetryPlan.defaultPhase(failed);
    assertEquals("medium", from);

    RetryPlan plan = RetryPlan.of("r1-retry-1", TestRuns.demo(), failed, from);
    startRetry("r1-retry-1", TestRuns.demo(), plan, new RetryOf("r1", from));
    RunStatus done = runs.finish("r1-retry-1");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(failed.phases().get(0), done.phases().get(0), "easy as it ended in r1");
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    assertEquals(PhaseState.COMPLETED, done.phases().get(2).state());
    assertEquals(3000, done.step());
    List<FakeBackend.Job> jobs = jobsOf("r1-retry-1");
    assertEquals(
        List.of("hard", "medium"), jobs.stream().map(j -> j.ref.phase()).sorted().toList());
    FakeBackend.Job medium =
        jobs.stream().filter(j -> j.ref.phase().equals("medium")).findFirst().orElseThrow();
    assertEquals(failed.phases().get(0).artifacts(), medium.task.input());
    assertEquals(failed.artifacts(), medium.task.input());
    assertTrue(
        medium.task.input().model().path().startsWith("r1/0-easy/"),
        medium.task.input().model().path());
  }

  @Test
  void aRetryFromAnEarlierPhaseRunsItAgainFromTheRecipesModel() throws Exception {
    RunStatus failed = failedAtMedium("r2");

    RetryPlan plan = RetryPlan.of("r2-retry-1", TestRuns.demo(), failed, "easy");
    startRetry("r2-retry-1", TestRuns.demo(), plan, new RetryOf("r2", "easy"));
    RunStatus done = runs.finish("r2-retry-1");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(3, jobsOf("r2-retry-1").size());
    assertNull(plan.start().model(), "the demo recipe has no base model");
  }

  @Test
  void aRetryPastThePhaseThatFailedIsRefused() throws Exception {
    RunStatus failed = failedAtMedium("r3");

    RetryPlan.Refused refused =
        assertThrows(
            RetryPlan.Refused.class,
            () -> RetryPlan.of("r3-retry-1", TestRuns.demo(), failed, "hard"));
    assertEquals(
        "phase 1 'medium' of run r3 did not hand anything on (FAILED); retry from it or from an"
            + " earlier phase",
        refused.getMessage());
    RetryPlan.Refused unknown =
        assertThrows(
            RetryPlan.Refused.class,
            () -> RetryPlan.of("r3-retry-1", TestRuns.demo(), failed, "harder"));
    assertEquals(
        "--from: no phase 'harder' in recipe demo (phases: easy, medium, hard)",
        unknown.getMessage());
  }

  @Test
  void aCompletedRunIsRetriedOnlyFromANamedPhase() throws Exception {
    runs.start("r4", TestRuns.demo(), FAST);
    RunStatus done = runs.finish("r4");

    RetryPlan.Refused refused =
        assertThrows(RetryPlan.Refused.class, () -> RetryPlan.defaultPhase(done));
    assertEquals(
        "run r4 completed; name the phase to run again from with --from PHASE",
        refused.getMessage());
    RetryPlan plan = RetryPlan.of("r4-retry-1", TestRuns.demo(), done, "hard");
    assertEquals(done.phases().get(1).artifacts(), plan.start());
    assertEquals(2, plan.carried().phaseIndex());
    assertEquals(PhaseState.PENDING, plan.carried().phases().get(2).state());
    assertEquals(2000, plan.carried().step());
  }

  @Test
  void onlyTheRetriedPhaseAndTheOnesAfterItMayBeChanged() {
    Recipe demo = TestRuns.demo();
    Recipe changed =
        Recipe.builder("demo")
            .totalSteps(3000)
            .phase(demo.phases().get(0))
            .phase(
                Phase.builder("medium")
                    .until(2.0 / 3)
                    .framework("tiny", "train")
                    .optimizer(new OptimizerSpec(null, 0.02, OptimizerState.CARRY)))
            .phase(demo.phases().get(2))
            .build();

    assertNull(RetryPlan.changedBefore(demo, changed, 1));
    assertEquals(
        "--set: phase 1 'medium' ran in the earlier run; a retry from phase 2 may only change"
            + " that phase and the ones after it",
        RetryPlan.changedBefore(demo, changed, 2));
  }
}
