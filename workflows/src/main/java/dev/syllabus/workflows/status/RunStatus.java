package dev.syllabus.workflows.status;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import java.util.List;

/**
 * The whole state of a run: what {@code syllabus status --json} prints and what the {@code status}
 * query returns. It is also what a run carries across continue-as-new.
 *
 * @param runId the run id, which is also the workflow id
 * @param recipe the recipe name
 * @param state where the run stands
 * @param step the global step reached
 * @param totalSteps T
 * @param t normalized time, step / T
 * @param phaseIndex the phase running or next to run (the last phase once the run has ended)
 * @param phases every phase, in order
 * @param artifacts the current triplet: what the next phase starts from
 * @param message why the run is in this state (the failed phase, the pause reason), or null
 */
public record RunStatus(
    String runId,
    String recipe,
    RunState state,
    long step,
    long totalSteps,
    double t,
    int phaseIndex,
    List<PhaseStatus> phases,
    Triplet artifacts,
    String message) {

  public RunStatus {
    phases = List.copyOf(phases);
  }

  /**
   * This status as a run carries it when it continues as new: the phases' statuses keep only the
   * brief reference to their model ({@link ArtifactRef#brief}), while the artifacts the next phase
   * starts from stay whole. Carried in one payload, a long curriculum's status must stay well under
   * Temporal's 2 MB limit: about 0.4 KB a phase instead of 1.3 KB.
   */
  public RunStatus forCarrying() {
    List<PhaseStatus> brief =
        phases.stream()
            .map(
                p ->
                    p.artifacts() == null || p.artifacts().model() == null
                        ? p
                        : p.withArtifacts(new Triplet(p.artifacts().model().brief(), null, null)))
            .toList();
    return new RunStatus(
        runId, recipe, state, step, totalSteps, t, phaseIndex, brief, artifacts, message);
  }

  public PhaseStatus currentPhase() {
    return phases.isEmpty() ? null : phases.get(Math.min(phaseIndex, phases.size() - 1));
  }
}
