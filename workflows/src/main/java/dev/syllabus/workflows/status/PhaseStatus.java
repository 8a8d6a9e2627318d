package dev.syllabus.workflows.status;

import dev.syllabus.workflows.job.Triplet;

/**
 * One phase as a person sees it in {@code syllabus status} and the Web UI.
 *
 * @param index the phase's position in the recipe, from 0
 * @param name the phase name
 * @param framework the framework folder
 * @param workload the workload folder
 * @param state where it stands
 * @param stepStart the first global step it owns
 * @param stepEnd one past its last global step
 * @param step the global step it has reached (stepStart before it runs)
 * @param loss the latest training loss, or null
 * @param evalLoss the latest held-out loss, or null
 * @param attempt which attempt of the job runs (from 1); 0 before the first
 * @param artifacts what it produced (model, optimizer, data), or null until it ended
 * @param message why it is in this state, when there is something to say
 * @param checkpoint the global step of its latest complete checkpoint, as last seen, or null
 * @param controls how many controls (pause, resume, advance, skip) the phase has heard: a report
 *     made after a control counts it, so the run can tell it from one made before
 */
public record PhaseStatus(
    int index,
    String name,
    String framework,
    String workload,
    PhaseState state,
    long stepStart,
    long stepEnd,
    long step,
    Double loss,
    Double evalLoss,
    int attempt,
    Triplet artifacts,
    String message,
    Long checkpoint,
    int controls) {

  /** A phase that has not started: PENDING at its first step, nothing seen or handed on yet. */
  public static PhaseStatus pending(
      int index, String name, String framework, String workload, long stepStart, long stepEnd) {
    return new PhaseStatus(
        index,
        name,
        framework,
        workload,
        PhaseState.PENDING,
        stepStart,
        stepEnd,
        stepStart,
        null,
        null,
        0,
        null,
        null,
        null,
        0);
  }

  public PhaseStatus withState(PhaseState newState, String newMessage) {
    return new PhaseStatus(
        index,
        name,
        framework,
        workload,
        newState,
        stepStart,
        stepEnd,
        step,
        loss,
        evalLoss,
        attempt,
        artifacts,
        newMessage,
        checkpoint,
        controls);
  }

  public PhaseStatus withProgress(
      long newStep, Double newLoss, Double newEvalLoss, int newAttempt) {
    return new PhaseStatus(
        index,
        name,
        framework,
        workload,
        state,
        stepStart,
        stepEnd,
        newStep,
        newLoss != null ? newLoss : loss,
        newEvalLoss != null ? newEvalLoss : evalLoss,
        newAttempt,
        artifacts,
        message,
        checkpoint,
        controls);
  }

  public PhaseStatus withArtifacts(Triplet newArtifacts) {
    return new PhaseStatus(
        index,
        name,
        framework,
        workload,
        state,
        stepStart,
        stepEnd,
        step,
        loss,
        evalLoss,
        attempt,
        newArtifacts,
        message,
        checkpoint,
        controls);
  }

  /** With the latest complete checkpoint at global step {@code step} (null: none yet). */
  public PhaseStatus withCheckpoint(Long step) {
    return new PhaseStatus(
        index, name, framework, workload, state, stepStart, stepEnd, this.step, loss, evalLoss,
        attempt, artifacts, message, step, controls);
  }

  /** Having heard one more control. */
  public PhaseStatus withControlHeard() {
    return new PhaseStatus(
        index,
        name,
        framework,
        workload,
        state,
        stepStart,
        stepEnd,
        step,
        loss,
        evalLoss,
        attempt,
        artifacts,
        message,
        checkpoint,
        controls + 1);
  }
}
