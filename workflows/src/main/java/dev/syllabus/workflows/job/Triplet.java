package dev.syllabus.workflows.job;

/**
 * The state handed from phase to phase: data, model and optimizer. Any part may be null (a first
 * phase trained from scratch has no model and no optimizer state).
 */
public record Triplet(ArtifactRef model, ArtifactRef optimizer, ArtifactRef data) {

  public static final Triplet EMPTY = new Triplet(null, null, null);
}
