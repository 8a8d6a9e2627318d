package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.activities.JobContract.Verdict;
import dev.syllabus.workflows.job.JobState;
import org.junit.jupiter.api.Test;

/** The job contract's verdict on a job that ended, case by case; both backends use it. */
class JobContractTest {

  @Test
  void exitZeroWithACheckpointAtTheLastStepSucceeded() {
    assertEquals(new Verdict(JobState.SUCCEEDED, null), JobContract.verdict(0, false, 300L, 300));
  }

  @Test
  void exitZeroAtTheLastStepSucceededEvenIfAStopWasAskedMeanwhile() {
    assertEquals(new Verdict(JobState.SUCCEEDED, null), JobContract.verdict(0, true, 300L, 300));
  }

  @Test
  void aStoppedJobIsStoppedAtItsLatestCheckpoint() {
    assertEquals(
        new Verdict(JobState.STOPPED, "stopped at checkpoint 120"),
        JobContract.verdict(0, true, 120L, 300));
  }

  @Test
  void aStoppedJobThatExitedWithAnErrorIsStillStoppedAndSaysHowItExited() {
    assertEquals(
        new Verdict(JobState.STOPPED, "stopped at checkpoint 120 (exit code 143)"),
        JobContract.verdict(143, true, 120L, 300));
  }

  @Test
  void aStoppedJobKilledAfterItsGracePeriodIsStopped() {
    assertEquals(
        new Verdict(JobState.STOPPED, "stopped before its first checkpoint"),
        JobContract.verdict(null, true, null, 300));
  }

  @Test
  void exitZeroBeforeTheLastStepFailed() {
    assertEquals(
        new Verdict(
            JobState.FAILED,
            "the trainer exited 0 before its last step (latest complete checkpoint: 120 of 300)"),
        JobContract.verdict(0, false, 120L, 300));
  }

  @Test
  void exitZeroWithoutAnyCheckpointFailed() {
    assertEquals(
        new Verdict(
            JobState.FAILED,
            "the trainer exited 0 before its last step (latest complete checkpoint: none of 300)"),
        JobContract.verdict(0, false, null, 300));
  }

  /**
   * The backends once disagreed here: Kubernetes counted an unknown last step as success, the local
   * backend did not. There is nothing to hand on without a checkpoint, so it is a failure.
   */
  @Test
  void exitZeroWithAnUnknownLastStepSucceedsOnlyWithACheckpoint() {
    assertEquals(new Verdict(JobState.SUCCEEDED, null), JobContract.verdict(0, false, 40L, 0));
    assertEquals(
        new Verdict(
            JobState.FAILED,
            "the trainer exited 0 before its last step (latest complete checkpoint: none of an"
                + " unknown number of steps)"),
        JobContract.verdict(0, false, null, 0));
  }

  @Test
  void aNonZeroExitFailedWithItsCode() {
    assertEquals(
        new Verdict(JobState.FAILED, "exit code 3"), JobContract.verdict(3, false, 300L, 300));
  }

  @Test
  void anEndWithoutAnExitCodeAndNoStopFailed() {
    assertEquals(
        new Verdict(JobState.FAILED, "the trainer ended with no exit code"),
        JobContract.verdict(null, false, 120L, 300));
  }
}
