package dev.syllabus.workflows.status;

import dev.syllabus.workflows.job.Triplet;

/**
 * What a control sent as a Workflow Update ({@code pauseRun}, {@code resumeRun}, {@code
 * advancePhase}, {@code skipPhase}) did, once it took effect: what {@code syllabus pause} and the
 * others print.
 *
 * @param runId the run
 * @param control {@code pause}, {@code resume}, {@code advance} or {@code skip}
 * @param phase the phase it acted on, or null when there was none
 * @param phaseState where that phase stands now, or null
 * @param checkpoint the global step of the checkpoint that matters: for a pause, the one the phase
 *     resumes from; for an advance, the one handed on; null when there is none
 * @param artifacts for an advance, what was handed on; for a skip, what passed through; else null
 * @param message one line for a person: what happened
 */
public record ControlAnswer(
    String runId,
    String control,
    String phase,
    PhaseState phaseState,
    Long checkpoint,
    Triplet artifacts,
    String message) {}
