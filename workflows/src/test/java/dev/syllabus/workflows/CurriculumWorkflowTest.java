package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The run's behaviour on Temporal's test server, with {@link FakeBackend} standing in for jobs. */
@Timeout(60)
class CurriculumWorkflowTest {

  private static final RunSettings FAST = new RunSettings(50, 0);

  private TestRuns runs;
  private WorkflowClient client;
  private FakeBackend backend;

  @BeforeEach
  void setUp() {
    runs = new TestRuns();
    client = runs.client();
    backend = runs.backend();
  }

  @AfterEach
  void tearDown() {
    runs.close();
  }

  static Recipe demo() {
    return TestRuns.demo();
  }

  private CurriculumWorkflow start(String id, Recipe recipe, RunSettings settings) {
    return runs.start(id, recipe, settings);
  }

  private RunStatus finish(String id) {
    return runs.finish(id);
  }

  private RunStatus status(String id) {
    return runs.status(id);
  }

  private static void eventually(String what, BooleanSupplier condition) {
    TestRuns.eventually(what, condition);
  }

  private void awaitHeldAt(String phase, long step) {
    runs.awaitHeldAt(phase, step);
  }

  @Test
  void everyPhaseCompletesAndEachStartsFromThePreviousCheckpoint() {
    start("r1", demo(), FAST);
    RunStatus done = finish("r1");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(3000, done.step());
    assertEquals(1.0, done.t());
    assertEquals(
        List.of(PhaseState.COMPLETED, PhaseState.COMPLETED, PhaseState.COMPLETED),
        done.phases().stream().map(PhaseStatus::state).toList());
    for (int i = 1; i < 3; i++) {
      ArtifactRef handedOn = done.phases().get(i - 1).artifacts().model();
      assertEquals(handedOn, backend.job(done.phases().get(i).name()).task.input().model());
    }
    assertEquals("r1/2-hard/checkpoint-1000", done.artifacts().model().path());
    assertEquals(3000, done.artifacts().model().step());
  }

  @Test
  void eachPhaseCanBeFoundByItsSearchAttributes() {
    start("r-search", demo(), FAST);
    finish("r-search");

    var attributes =
        client.newUntypedWorkflowStub("r-search.1-medium").describe().getTypedSearchAttributes();
    assertEquals("demo", attributes.get(SearchKeys.RECIPE));
    assertEquals("medium", attributes.get(SearchKeys.PHASE));
    assertEquals("COMPLETED", attributes.get(SearchKeys.STATE));
  }

  @Test
  void dataIsInheritedByAPhaseThatDeclaresNone() {
    start("r-data", demo(), FAST);
    finish("r-data");
    assertEquals(DataSpec.of("synthetic:waves-easy"), backend.job("medium").task.data());
    assertEquals(DataSpec.of("synthetic:waves-hard"), backend.job("hard").task.data());
  }

  @Test
  void pauseDuringAPhaseStopsTheJobAndResumeRestartsItFromItsCheckpoint() {
    backend.holdAt("medium", 300);
    CurriculumWorkflow run = start("r2", demo(), FAST);
    awaitHeldAt("medium", 300);

    run.pause("need the GPUs");
    eventually(
        "the medium phase is paused",
        () -> status("r2").phases().get(1).state() == PhaseState.PAUSED);
    RunStatus paused = status("r2");
    assertEquals(RunState.PAUSED, paused.state());
    assertEquals(1, backend.count("stop r2-1-medium-1"));
    assertEquals(300L, backend.job("medium").checkpoint);

    backend.release("medium");
    run.resume(null);
    RunStatus done = finish("r2");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    assertEquals(List.of(0L, 300L), backend.job("medium").startedFrom);
    assertEquals(1, backend.count("resume r2-1-medium-1"));
  }

  @Test
  void pauseBetweenPhasesHoldsTheNextPhaseUntilResume() throws Exception {
    CountDownLatch collectEasy = backend.holdCollect("easy");
    CurriculumWorkflow run = start("r3", demo(), FAST);
    eventually("easy is being collected", () -> backend.count("collect r3-0-easy-1") == 1);

    run.pause(null);
    collectEasy.countDown();
    eventually(
        "easy completed", () -> status("r3").phases().get(0).state() == PhaseState.COMPLETED);
    Thread.sleep(300);
    RunStatus held = status("r3");
    assertEquals(RunState.PAUSED, held.state());
    assertEquals(PhaseState.PENDING, held.phases().get(1).state());
    assertEquals(0, backend.count("render medium"));
    assertEquals(0, backend.count("stop"));

    run.resume(null);
    assertEquals(RunState.COMPLETED, finish("r3").state());
  }

  @Test
  void aCompletedJobIsTornDownWhileItsCheckpointIsCollectedAndTheNextPhaseWaitsForBoth()
      throws Exception {
    CountDownLatch collectEasy = backend.holdCollect("easy");
    start("r3b", demo(), FAST);
    eventually("easy is being collected", () -> backend.count("collect r3b-0-easy-1") == 1);

    eventually("easy's job is torn down", () -> backend.count("teardown r3b-0-easy-1") == 1);
    assertEquals(0, backend.count("render medium"), "medium waits for easy's checkpoint");

    collectEasy.countDown();
    RunStatus done = finish("r3b");
    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(1, backend.count("teardown r3b-0-easy-1"), "torn down once");
  }

  @Test
  void advanceEndsThePhaseAtItsLatestCheckpointAndTheNextStartsFromIt() {
    backend.holdAt("easy", 350);
    CurriculumWorkflow run = start("r4", demo(), FAST);
    awaitHeldAt("easy", 350);

    run.advance("loss plateaued");
    RunStatus done = finish("r4");

    PhaseStatus easy = done.phases().get(0);
    assertEquals(PhaseState.ADVANCED, easy.state());
    assertEquals(350, easy.step());
    assertEquals("r4/0-easy/checkpoint-350", easy.artifacts().model().path());
    assertEquals(easy.artifacts().model(), backend.job("medium").task.input().model());
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    assertEquals(1000, done.phases().get(1).stepStart());
  }

  @Test
  void skipPassesTheTripletThroughUnchanged() {
    backend.holdAt("medium", 200);
    CurriculumWorkflow run = start("r5", demo(), FAST);
    awaitHeldAt("medium", 200);

    run.skip("not needed");
    RunStatus done = finish("r5");

    assertEquals(PhaseState.SKIPPED, done.phases().get(1).state());
    ArtifactRef easyModel = done.phases().get(0).artifacts().model();
    assertEquals(easyModel, done.phases().get(1).artifacts().model());
    assertEquals(easyModel, backend.job("hard").task.input().model());
    assertEquals(0, backend.count("collect r5-1-medium"));
    assertEquals(RunState.COMPLETED, done.state());
  }

  @Test
  void skipWhilePausedBetweenPhasesSkipsTheNextPhaseWithoutRunningIt() throws Exception {
    CountDownLatch collectEasy = backend.holdCollect("easy");
    CurriculumWorkflow run = start("r5b", demo(), FAST);
    eventually("easy is being collected", () -> backend.count("collect r5b-0-easy-1") == 1);
    run.pause(null);
    collectEasy.countDown();
    eventually(
        "the run holds", () -> status("r5b").phases().get(0).state() == PhaseState.COMPLETED);

    run.skip(null);
    eventually(
        "medium is skipped", () -> status("r5b").phases().get(1).state() == PhaseState.SKIPPED);
    assertEquals(0, backend.count("render medium"));
    run.resume(null);
    RunStatus done = finish("r5b");
    assertEquals(PhaseState.COMPLETED, done.phases().get(2).state());
  }

  @Test
  void cancelTearsTheRunningJobDown() {
    backend.holdAt("medium", 100);
    // Reports every 2 s: the cancel finds the follow activity waiting, not just ending. (The test
    // server gets stuck on a cancel that crosses the activity's completion: ACTIVITY_UNKNOWN.)
    start("r6", demo(), new RunSettings(2000, 0));
    awaitHeldAt("medium", 100);

    WorkflowStub.fromTyped(client.newWorkflowStub(CurriculumWorkflow.class, "r6")).cancel();
    assertThrows(WorkflowFailedException.class, () -> finish("r6"));

    assertEquals(1, backend.count("teardown r6-1-medium-1"));
    RunStatus canceled = status("r6");
    assertEquals(RunState.CANCELED, canceled.state());
    assertEquals(PhaseState.CANCELED, canceled.phases().get(1).state());
  }

  @Test
  void aFailedJobIsRetriedFromItsCheckpoint() {
    backend.failJobs("medium", 1);
    start("r7", demo(), FAST);
    RunStatus done = finish("r7");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(2, done.phases().get(1).attempt());
    assertEquals(1, backend.count("teardown r7-1-medium-1"));
    FakeBackend.Job second = backend.job("medium");
    assertEquals(2, second.ref.attempt());
    assertEquals(List.of(500L), second.startedFrom);
  }

  @Test
  void aPreemptedPhaseWaitsToBeAdmittedAgainAndCarriesOnAsTheSameAttempt() {
    backend.preemptAt("medium", 300);
    start("r-preempt", demo(), FAST);
    eventually(
        "the run shows the medium phase preempted",
        () -> status("r-preempt").phases().get(1).state() == PhaseState.PREEMPTED);
    PhaseStatus preempted = status("r-preempt").phases().get(1);
    assertTrue(preempted.message().startsWith("preempted by Kueue: "), preempted.message());
    assertTrue(preempted.message().endsWith("resumes from checkpoint 300"), preempted.message());
    assertEquals(RunState.RUNNING, status("r-preempt").state());

    backend.readmit("medium");
    RunStatus done = finish("r-preempt");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(PhaseState.COMPLETED, done.phases().get(1).state());
    assertEquals(1, done.phases().get(1).attempt(), "a preemption is not a retry");
    assertEquals(1, backend.count("render medium"));
    assertEquals(0, backend.count("stop "));
    assertEquals(List.of(0L, 300L), backend.job("medium").startedFrom);
  }

  @Test
  void aPhaseThatKeepsFailingFailsTheRunNamingThePhase() {
    backend.failJobs("medium", 99);
    start("r8", demo(), FAST);

    WorkflowFailedException failed =
        assertThrows(WorkflowFailedException.class, () -> finish("r8"));
    String message = PhaseWorkflowImpl.rootMessage(failed);
    assertTrue(message.contains("phase 1 'medium' failed"), message);
    assertTrue(message.contains("after 3 attempts"), message);
    assertTrue(message.contains("simulated crash"), message);
    assertEquals(3, backend.count("render medium"));
    RunStatus status = status("r8");
    assertEquals(RunState.FAILED, status.state());
    assertEquals(PhaseState.FAILED, status.phases().get(1).state());
    assertEquals(0, backend.count("render hard"));
  }

  @Test
  void continueAsNewKeepsTheRunsState() {
    CurriculumWorkflow run = start("r9", demo(), new RunSettings(50, 40));
    String firstRunId = WorkflowStub.fromTyped(run).getExecution().getRunId();
    RunStatus done = finish("r9");

    assertEquals(RunState.COMPLETED, done.state());
    assertEquals(
        List.of(PhaseState.COMPLETED, PhaseState.COMPLETED, PhaseState.COMPLETED),
        done.phases().stream().map(PhaseStatus::state).toList());
    // The next phase started from the whole reference; a finished phase's status carries its
    // brief form across continue-as-new (path, phase and step; lineage.json has the rest).
    assertEquals(
        done.phases().get(1).artifacts().model().brief(),
        backend.job("hard").task.input().model().brief());
    assertEquals(
        done.phases().get(0).artifacts().model().brief(),
        backend.job("medium").task.input().model().brief());
    assertEquals(backend.job("medium").task.input().model().brief(), carriedModelOfEasy("r9"));
    assertEquals(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, lastEvent("r9", firstRunId));
    assertEquals(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        lastEvent("r9.0-easy", firstRunOf("r9.0-easy")));
    // The phase continued as new mid-job without starting it twice.
    assertEquals(1, backend.count("start r9-0-easy-1"));
    assertEquals(1000, done.phases().get(0).step());
  }

  @Test
  void statusShowsTheRunningPhaseAndTheRunsProgress() {
    backend.holdAt("medium", 500);
    start("r10", demo(), FAST);
    awaitHeldAt("medium", 500);
    eventually("the parent saw medium's progress", () -> status("r10").step() == 1500);

    RunStatus status = status("r10");
    assertEquals(RunState.RUNNING, status.state());
    assertEquals(1, status.phaseIndex());
    assertEquals(0.5, status.t());
    assertEquals(PhaseState.RUNNING, status.phases().get(1).state());
    assertEquals(PhaseState.PENDING, status.phases().get(2).state());
    assertNotNull(status.phases().get(1).loss());
    assertNotEquals(null, status.phases().get(0).artifacts());
    backend.release("medium");
    finish("r10");
  }

  /** Easy's model as the last continue-as-new of run {@code id} carried it. */
  private ArtifactRef carriedModelOfEasy(String id) {
    List<HistoryEvent> events = client.fetchHistory(id).getEvents();
    RunInput input =
        io.temporal.common.converter.DefaultDataConverter.STANDARD_INSTANCE.fromPayloads(
            0,
            java.util.Optional.of(
                events.get(0).getWorkflowExecutionStartedEventAttributes().getInput()),
            RunInput.class,
            RunInput.class);
    assertNotNull(input.carried(), "the last run was continued from another");
    return input.carried().phases().get(0).artifacts().model();
  }

  private EventType lastEvent(String workflowId, String runId) {
    List<HistoryEvent> events = client.fetchHistory(workflowId, runId).getEvents();
    return events.get(events.size() - 1).getEventType();
  }

  private String firstRunOf(String workflowId) {
    return client
        .fetchHistory(workflowId)
        .getEvents()
        .get(0)
        .getWorkflowExecutionStartedEventAttributes()
        .getFirstExecutionRunId();
  }
}
