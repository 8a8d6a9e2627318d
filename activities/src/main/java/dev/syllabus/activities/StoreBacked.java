package dev.syllabus.activities;

/**
 * A backend whose phases keep their artifacts in a store this worker reads and writes: where the
 * worker also keeps each run's record.
 */
public interface StoreBacked {

  /** The artifact store, as this worker sees it. */
  ArtifactStore store();

  /** The backend's name, as {@code syllabus worker --backend} takes it. */
  String backendName();
}
