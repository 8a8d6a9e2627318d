package dev.syllabus.activities;

import dev.syllabus.activities.record.PhaseImages;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * What every backend does the same way: render a phase's objects, read its latest checkpoint, and
 * hand that checkpoint on. A backend adds only how it runs a job ({@code local}: processes; {@code
 * kubernetes}: objects in a namespace).
 */
public final class PhaseCore {
  private final Renderer renderer;
  private final ArtifactStore store;

  public PhaseCore(Renderer renderer, ArtifactStore store) {
    this.renderer = renderer;
    this.store = store;
  }

  public ArtifactStore store() {
    return store;
  }

  /**
   * The phase's objects; a broken framework folder or recipe value fails the phase at once. They
   * are also written to the phase's folder ({@code rendered.yaml}), where people and the run record
   * find what the latest attempt ran.
   */
  public RenderedPhase render(PhaseTask task, int attempt) {
    try {
      RenderedPhase rendered = renderer.render(task, attempt);
      keep(rendered);
      return rendered;
    } catch (Kubeconfigs.Broken e) {
      throw ApplicationFailure.newNonRetryableFailure(e.toString(), "RenderFailed");
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "RenderFailed");
    }
  }

  private void keep(RenderedPhase rendered) {
    Path file = store.phaseFolder(rendered.job()).resolve(PhaseImages.FILE_NAME);
    try {
      Files.createDirectories(file.getParent());
      Path partial = file.resolveSibling(PhaseImages.FILE_NAME + ".partial");
      Files.writeString(partial, rendered.toYaml());
      Files.move(
          partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("the rendered phase could not be kept in " + file, e);
    }
  }

  /** The step of the phase's latest complete checkpoint, or null when it has none. */
  public Long checkpointStep(JobRef job) {
    return store
        .latestCheckpoint(store.phaseFolder(job))
        .map(ArtifactStore.Checkpoint::step)
        .orElse(null);
  }

  /** Hands the latest complete checkpoint on, heartbeating while its files are digested. */
  public Handoff collect(PhaseTask task, JobRef job) {
    return Heartbeating.call(() -> store.handOff(task, job));
  }
}
