package dev.syllabus.workflows.job;

/**
 * What a phase hands to the next: its output triplet, taken from its latest complete checkpoint.
 *
 * @param output the triplet the next phase starts from
 * @param checkpointStep the phase-local step of the checkpoint handed on, or null when the phase
 *     ended before its first checkpoint and its input passed through
 * @param message what happened, for the status and the Web UI
 */
public record Handoff(Triplet output, Long checkpointStep, String message) {}
