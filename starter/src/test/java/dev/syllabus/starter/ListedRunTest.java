package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.starter.ListedRun.State;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code syllabus list} makes of a workflow and its search attributes, and how it asks. */
class ListedRunTest {

  @Test
  void aClosedWorkflowShowsHowTemporalSaysItEnded() {
    assertEquals(
        Optional.of(State.TERMINATED),
        State.of(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, "RUNNING"));
    assertEquals(
        Optional.of(State.TIMED_OUT),
        State.of(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, "PAUSED"));
    assertEquals(
        Optional.of(State.FAILED),
        State.of(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED, "FAILED"));
  }

  @Test
  void aRunningWorkflowShowsWhatTheRunSaid() {
    assertEquals(
        Optional.of(State.PAUSED),
        State.of(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, "PAUSED"));
    assertEquals(
        Optional.of(State.RUNNING),
        State.of(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, null));
  }

  @Test
  void aWorkflowRunThatContinuedAsNewIsNotListed() {
    assertEquals(
        Optional.empty(),
        State.of(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, "RUNNING"));
  }

  @Test
  void statesAreReadInAnyCase() {
    assertEquals(State.TIMED_OUT, State.parse("timed-out"));
    assertEquals(State.PAUSED, State.parse("Paused"));
  }

  @Test
  void theQueryAsksForRunsOnlyWithTheFiltersGiven() {
    assertEquals(
        "WorkflowType = 'CurriculumWorkflow' AND ExecutionStatus != 'ContinuedAsNew'",
        ListedRun.query("CurriculumWorkflow", null, null));
    assertEquals(
        "WorkflowType = 'CurriculumWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND"
            + " ExecutionStatus = 'Running' AND SyllabusState = 'PAUSED' AND SyllabusRecipe ="
            + " 'demo'",
        ListedRun.query("CurriculumWorkflow", State.PAUSED, "demo"));
  }

  @Test
  void durationsAreShortAndARunningRunsIsSoFar() {
    assertEquals("45s", ListedRun.format(Duration.ofSeconds(45)));
    assertEquals("3m05s", ListedRun.format(Duration.ofSeconds(185)));
    assertEquals("2h07m", ListedRun.format(Duration.ofMinutes(127)));
    assertEquals("3d04h", ListedRun.format(Duration.ofHours(76)));

    Instant started = Instant.parse("2026-12-07T10:00:00Z");
    ListedRun running =
        new ListedRun("x", "demo", State.RUNNING, "easy", 120L, 0.04, started, null);
    String table = ListedRun.table(List.of(running), started.plusSeconds(75), ZoneOffset.UTC);
    assertEquals(
        "x    demo              RUNNING     easy              120  0.040  2026-12-07 10:00:00"
            + "  1m15s so far",
        table.lines().toList().get(1));
  }
}
