package dev.syllabus.workflows.record;

import io.temporal.activity.ActivityInterface;

/**
 * Writes a run's record ({@code <store>/<runId>/record.json}, docs/run-records.md) on the worker,
 * next to the run's artifacts, where it outlives the Temporal history.
 */
@ActivityInterface
public interface RecordActivities {

  /**
   * Merges {@code update} into the run's record and writes it whole (write, then rename). The
   * worker adds what it sees itself: its version and backend, each phase's images and metric series
   * from the store, and the run's lineage. Idempotent: the same update written twice gives the same
   * record.
   */
  void writeRecord(RecordUpdate update);
}
