package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.status.ControlAnswer;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The run's controls as Workflow Updates: refused with the reason, and nothing written to the
 * history, when they cannot be honoured; answered once they took effect when they can.
 */
@Timeout(60)
class ControlsTest {
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

  private CurriculumWorkflow startHeldAt(String id, String phase, long step) {
    backend.holdAt(phase, step);
    CurriculumWorkflow run = runs.start(id, TestRuns.demo(), FAST);
    runs.awaitHeldAt(phase, step);
    // The run takes controls for a phase once it has seen the phase's workflow start, which on a
    // busy machine can come after the job's first steps.
    TestRuns.eventually(
        "run " + id + " sees " + phase + " running",
        () ->
            runs.status(id).phases().stream()
                .anyMatch(p -> p.name().equals(phase) && p.state() == PhaseState.RUNNING));
    return run;
  }

  /** How many events in the run's history are about updates (accepted, completed, ...). */
  private long updateEvents(String id) {
    return client.fetchHistory(id).getEvents().stream()
        .filter(e -> e.getEventType().name().contains("UPDATE"))
        .count();
  }

  private long updatesAccepted(String id) {
    return client.fetchHistory(id).getEvents().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        .count();
  }

  /** The reason a refused update gives, as the CLI prints it. */
  private static String refusal(Runnable control) {
    WorkflowUpdateException e = assertThrows(WorkflowUpdateException.class, control::run);
    assertTrue(e.getCause() instanceof ApplicationFailure, "refused by a validator: " + e);
    return ((ApplicationFailure) e.getCause()).getOriginalMessage();
  }

  @Test
  void pauseAnswersWithTheCheckpointToResumeFromOnceTheJobIsGone() {
    CurriculumWorkflow run = startHeldAt("c1", "medium", 300);

    ControlAnswer answer = run.pauseRun("need the GPUs");

    assertEquals(JobState.STOPPED, backend.job("medium").state, "the job is gone");
    assertEquals("medium", answer.phase());
    assertEquals(PhaseState.PAUSED, answer.phaseState());
    assertEquals(1300L, answer.checkpoint(), "medium's steps start at 1000; it saved at 300");
    assertEquals(
        "paused c1: phase 'medium' stopped at its checkpoint of step 1300, which it resumes from;"
            + " its job is gone and its GPUs are free",
        answer.message());
    assertEquals(RunState.PAUSED, runs.status("c1").state());
  }

  @Test
  void pausingAPausedRunIsRefusedAndNothingIsWrittenToTheHistory() {
    CurriculumWorkflow run = startHeldAt("c2", "medium", 300);
    run.pauseRun(null);

    String why = refusal(() -> run.pauseRun("again"));

    assertEquals("run c2 is already paused; `syllabus resume c2` resumes it", why);
    assertEquals(2, updateEvents("c2"), "the first pause, accepted and completed; nothing else");
    assertEquals(1, updatesAccepted("c2"));
    assertEquals(1, backend.count("stop c2-1-medium-1"));
  }

  @Test
  void resumeAnswersOnceTheJobRunsAgainFromItsCheckpointAndResumingTwiceIsRefused() {
    CurriculumWorkflow run = startHeldAt("c3", "medium", 300);
    run.pauseRun(null);

    ControlAnswer answer = run.resumeRun("GPUs are back");

    assertEquals(1, backend.count("resume c3-1-medium-1"));
    assertEquals(List.of(0L, 300L), backend.job("medium").startedFrom);
    assertEquals(PhaseState.RUNNING, answer.phaseState());
    assertEquals(
        "resumed c3: phase 'medium' runs again from its checkpoint of step 1300", answer.message());
    assertEquals("run c3 is not paused", refusal(() -> run.resumeRun(null)));

    backend.release("medium");
    assertEquals(RunState.COMPLETED, runs.finish("c3").state());
  }

  @Test
  void resumingARunThatIsNotPausedIsRefused() {
    CurriculumWorkflow run = startHeldAt("c4", "easy", 200);

    assertEquals("run c4 is not paused", refusal(() -> run.resumeRun(null)));
    assertEquals(0, updateEvents("c4"));
  }

  @Test
  void advanceAnswersWithTheCheckpointItHandedOn() {
    CurriculumWorkflow run = startHeldAt("c5", "easy", 350);

    ControlAnswer answer = run.advancePhase("loss plateaued");

    assertEquals(PhaseState.ADVANCED, answer.phaseState());
    assertEquals(350L, answer.checkpoint());
    assertEquals("c5/0-easy/checkpoint-350", answer.artifacts().model().path());
    assertEquals(
        "advanced c5: phase 'easy' ended at its checkpoint of step 350 and handed on model"
            + " c5/0-easy/checkpoint-350",
        answer.message());
    RunStatus done = runs.finish("c5");
    assertEquals(answer.artifacts().model(), backend.job("medium").task.input().model());
    assertEquals(PhaseState.ADVANCED, done.phases().get(0).state());
  }

  @Test
  void advanceBeforeAnyCheckpointIsRefusedAndThePhaseGoesOn() {
    CurriculumWorkflow run = startHeldAt("c6", "easy", 50);

    String why = refusal(() -> run.advancePhase(null));

    assertEquals(
        "phase 'easy' of run c6 has not saved a complete checkpoint yet, so there is nothing to"
            + " hand on; wait for its first checkpoint, or skip it",
        why);
    assertEquals(0, updateEvents("c6"));
    backend.release("easy");
    RunStatus done = runs.finish("c6");
    assertEquals(PhaseState.COMPLETED, done.phases().get(0).state());
  }

  @Test
  void skipAnswersWithWhatPassedThroughAndASecondSkipOfTheSamePhaseIsRefused() throws Exception {
    CountDownLatch collect = backend.holdCollect("easy");
    CurriculumWorkflow run = runs.start("c7", TestRuns.demo(), FAST);
    TestRuns.eventually("easy is being collected", () -> backend.count("collect c7-0-easy-1") == 1);
    run.pause(null);
    collect.countDown();
    TestRuns.eventually("the run holds before medium", () -> backend.count("render") == 1);
    TestRuns.eventually(
        "the run holds before medium",
        () -> runs.status("c7").phases().get(0).state() == PhaseState.COMPLETED);
    ArtifactRef easyModel = runs.status("c7").phases().get(0).artifacts().model();

    ControlAnswer answer = run.skipPhase("not needed");

    assertEquals("medium", answer.phase());
    assertEquals(PhaseState.SKIPPED, answer.phaseState());
    assertEquals(easyModel, answer.artifacts().model());
    assertNull(answer.checkpoint());
    assertEquals(0, backend.count("render medium"));
    run.resume(null);
    assertEquals(RunState.COMPLETED, runs.finish("c7").state());
  }

  @Test
  void aControlOfAFinishedRunIsRefused() {
    runs.start("c8", TestRuns.demo(), FAST);
    runs.finish("c8");
    CurriculumWorkflow run = client.newWorkflowStub(CurriculumWorkflow.class, "c8");

    // The server refuses it (the run's workflow is closed); the CLI says so before asking.
    assertThrows(WorkflowException.class, () -> run.skipPhase(null));
  }

  @Test
  void twoClientsPausingAtOnceStopTheJobOnceAndGetOneAnswerBetweenThem() throws Exception {
    startHeldAt("c9", "medium", 300);
    ExecutorService clients = Executors.newFixedThreadPool(2);
    List<Future<String>> results = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    for (int i = 0; i < 2; i++) {
      results.add(
          clients.submit(
              () -> {
                go.await();
                CurriculumWorkflow run = client.newWorkflowStub(CurriculumWorkflow.class, "c9");
                try {
                  return run.pauseRun(null).message();
                } catch (WorkflowUpdateException refused) {
                  return "refused: "
                      + ((ApplicationFailure) refused.getCause()).getOriginalMessage();
                }
              }));
    }
    go.countDown();
    List<String> answers = new ArrayList<>();
    for (Future<String> result : results) {
      answers.add(result.get());
    }
    clients.shutdown();

    String paused =
        "paused c9: phase 'medium' stopped at its checkpoint of step 1300, which it resumes from;"
            + " its job is gone and its GPUs are free";
    String refused = "refused: run c9 is already paused; `syllabus resume c9` resumes it";
    long pausedAnswers = answers.stream().filter(paused::equals).count();
    assertEquals(
        2,
        answers.stream().filter(a -> a.equals(paused) || a.equals(refused)).count(),
        "answers: " + answers);
    assertTrue(pausedAnswers >= 1, "answers: " + answers);
    assertEquals(pausedAnswers, updatesAccepted("c9"), "a refused pause leaves no trace");
    assertEquals(1, backend.count("stop c9-1-medium-1"));
  }
}
