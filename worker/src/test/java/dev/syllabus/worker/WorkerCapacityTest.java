package dev.syllabus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.worker.WorkerFactoryOptions;
import org.junit.jupiter.api.Test;

class WorkerCapacityTest {

  @Test
  void everyRunningPhaseGetsAnActivitySlotForItsFollowAndRoomForShortSteps() {
    WorkerCapacity capacity = WorkerCapacity.forPhases(500);

    assertEquals(600, capacity.activitySlots());
    assertEquals(600, capacity.workerOptions().getMaxConcurrentActivityExecutionSize());
  }

  @Test
  void everyRunningPhaseKeepsItsRunAndItsPhaseInTheCache() {
    WorkerCapacity capacity = WorkerCapacity.forPhases(500);
    WorkerFactoryOptions options =
        capacity.factoryOptions(WorkerFactoryOptions.newBuilder().build());

    assertEquals(1_100, options.getWorkflowCacheSize());
    assertEquals(2_200, options.getMaxWorkflowThreadCount());
  }

  @Test
  void theDefaultHoldsMoreThanTemporalsDefaultActivitySlots() {
    assertTrue(WorkerCapacity.DEFAULT.activitySlots() > 200);
  }

  @Test
  void aWorkerForNoPhasesIsRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WorkerCapacity.forPhases(0));
    assertEquals("a worker runs at least 1 phase at once, not 0", e.getMessage());
  }
}
