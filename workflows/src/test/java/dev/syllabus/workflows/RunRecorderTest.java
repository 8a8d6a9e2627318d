package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.record.RecordUpdate;
import dev.syllabus.workflows.record.RecordUpdate.PhaseEntry;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a run tells the worker for its record, on Temporal's test server. */
@Timeout(60)
class RunRecorderTest {

  private static final RunSettings FAST = new RunSettings(50, 0);

  private TestRuns runs;

  @BeforeEach
  void setUp() {
    runs = new TestRuns();
  }

  @AfterEach
  void tearDown() {
    runs.close();
  }

  @Test
  void aCompletedRunRecordsItsRecipeOnceEachPhaseStartAndEndAndItsEnd() {
    runs.start("rec1", TestRuns.demo(), FAST);
    runs.finish("rec1");

    List<RecordUpdate> updates = runs.recordUpdates();
    assertEquals("demo", updates.get(0).start().recipe().name());
    assertEquals(1, updates.stream().filter(u -> u.start() != null).count());
    for (int i = 1; i < updates.size(); i++) {
      assertTrue(updates.get(i - 1).at() <= updates.get(i).at(), "updates in order");
      assertFalse(updates.get(i - 1).ended(), "only the last update ends the run");
    }
    RecordUpdate last = updates.get(updates.size() - 1);
    assertTrue(last.ended());
    assertEquals(RunState.COMPLETED, last.state());
    assertEquals(3000, last.step());

    for (int i = 0; i < 3; i++) {
      PhaseEntry ended = latest(updates, i);
      assertEquals(PhaseState.COMPLETED, ended.status().state());
      assertNotNull(ended.startedAt(), "phase " + i + " started at");
      assertTrue(ended.endedAt() >= ended.startedAt(), "phase " + i + " ended after it started");
      assertNotNull(ended.times(), "phase " + i + " times");
      assertNotNull(ended.output().model(), "phase " + i + " handed on a model");
      assertFalse(ended.reused());
    }
    assertNull(latest(updates, 0).times().handoffMillis(), "the first phase has no handoff");
    assertNotNull(latest(updates, 1).times().handoffMillis(), "the second phase's handoff");
  }

  @Test
  void aFailedRunRecordsTheFailedPhaseAndEndsTheRecord() {
    runs.backend().failJobs("medium", 99);
    runs.start("rec2", TestRuns.demo(), FAST);
    assertThrows(WorkflowFailedException.class, () -> runs.finish("rec2"));

    List<RecordUpdate> updates = runs.recordUpdates();
    RecordUpdate last = updates.get(updates.size() - 1);
    assertTrue(last.ended());
    assertEquals(RunState.FAILED, last.state());
    assertTrue(last.message().contains("phase 1 'medium' failed"), last.message());
    PhaseEntry medium = latest(updates, 1);
    assertEquals(PhaseState.FAILED, medium.status().state());
    assertNotNull(medium.endedAt());
    assertTrue(
        updates.stream().flatMap(u -> u.phases().stream()).noneMatch(p -> p.status().index() == 2));
  }

  @Test
  void aCanceledRunRecordsItsEnd() {
    runs.backend().holdAt("medium", 100);
    // Reports every 2 s, as in CurriculumWorkflowTest's cancel: the cancel finds the follow
    // waiting.
    runs.start("rec4", TestRuns.demo(), new RunSettings(2000, 0));
    runs.awaitHeldAt("medium", 100);
    WorkflowStub.fromTyped(runs.client().newWorkflowStub(CurriculumWorkflow.class, "rec4"))
        .cancel();
    assertThrows(WorkflowFailedException.class, () -> runs.finish("rec4"));

    TestRuns.eventually(
        "the record hears the end",
        () -> runs.recordUpdates().stream().anyMatch(RecordUpdate::ended));
    List<RecordUpdate> updates = runs.recordUpdates();
    RecordUpdate last = updates.get(updates.size() - 1);
    assertTrue(last.ended());
    assertEquals(RunState.CANCELED, last.state());
    assertEquals(PhaseState.CANCELED, latest(updates, 1).status().state());
  }

  @Test
  void aRetryRecordsWhereItComesFromAndThePhasesItTookOver() {
    runs.backend().failJobs("hard", 99);
    runs.start("rec3", TestRuns.demo(), FAST);
    assertThrows(WorkflowFailedException.class, () -> runs.finish("rec3"));
    RunStatus failed = runs.status("rec3");

    RunStatus carried =
        new RunStatus(
            "rec3-retry",
            failed.recipe(),
            RunState.RUNNING,
            failed.phases().get(2).stepStart(),
            failed.totalSteps(),
            failed.t(),
            2,
            List.of(
                failed.phases().get(0),
                failed.phases().get(1),
                failed.phases().get(2).withState(PhaseState.PENDING, null)),
            failed.artifacts(),
            null);
    runs.backend().failJobs("hard", 0);
    int before = runs.recordUpdates().size();
    CurriculumWorkflow retry =
        runs.client()
            .newWorkflowStub(
                CurriculumWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setWorkflowId("rec3-retry")
                    .setTaskQueue(CurriculumWorkflow.TASK_QUEUE)
                    .build());
    WorkflowClient.start(
        retry::run, new RunInput(TestRuns.demo(), FAST, carried, new RetryOf("rec3", "hard")));
    WorkflowStub.fromTyped(retry).getResult(RunStatus.class);

    List<RecordUpdate> updates =
        new ArrayList<>(runs.recordUpdates().subList(before, runs.recordUpdates().size()));
    assertEquals(new RetryOf("rec3", "hard"), updates.get(0).start().retryOf());
    for (int i = 0; i < 2; i++) {
      PhaseEntry taken = latest(updates, i);
      assertTrue(taken.reused(), "phase " + i + " taken over");
      assertEquals(failed.phases().get(i).artifacts(), taken.output());
    }
    PhaseEntry hard = latest(updates, 2);
    assertFalse(hard.reused());
    assertEquals(PhaseState.COMPLETED, hard.status().state());
    assertEquals(RunState.COMPLETED, updates.get(updates.size() - 1).state());
  }

  /** The latest entry for phase {@code index} among {@code updates}. */
  private static PhaseEntry latest(List<RecordUpdate> updates, int index) {
    PhaseEntry found = null;
    for (RecordUpdate update : updates) {
      for (PhaseEntry entry : update.phases()) {
        if (entry.status().index() == index) {
          found = entry;
        }
      }
    }
    assertNotNull(found, "an entry for phase " + index);
    return found;
  }
}
