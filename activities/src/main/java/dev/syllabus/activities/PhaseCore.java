package dev.syllabus.activities;

import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import io.temporal.failure.ApplicationFailure;

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

  /** The phase's objects; a broken framework folder or recipe value fails the phase at once. */
  public RenderedPhase render(PhaseTask task, int attempt) {
    try {
      return renderer.render(task, attempt);
    } catch (Kubeconfigs.Broken e) {
      throw ApplicationFailure.newNonRetryableFailure(e.toString(), "RenderFailed");
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "RenderFailed");
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
