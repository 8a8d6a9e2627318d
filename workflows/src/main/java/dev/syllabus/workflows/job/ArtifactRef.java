package dev.syllabus.workflows.job;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A reference to one artifact of the triplet that flows between phases.
 *
 * @param kind model, optimizer state or data
 * @param uri where it is, for people and for {@code lineage.json}: {@code file:///…} in the store,
 *     or an external reference such as a hub model id
 * @param path the location relative to the artifact store root ({@code <runId>/<index>-<phase>/…}),
 *     which each backend maps to where its jobs see the store; null for external references
 * @param phase the phase that produced it, or null for the recipe's initial model
 * @param step the global step it was taken at
 * @param digest {@code sha256:…} of its content, or null for external references
 */
public record ArtifactRef(
    Kind kind, String uri, String path, String phase, long step, String digest) {

  /** What an artifact holds. */
  public enum Kind {
    MODEL,
    OPTIMIZER,
    DATA
  }

  /** Something the store did not produce, passed to jobs as given (e.g. a hub model id). */
  public static ArtifactRef external(Kind kind, String reference) {
    return new ArtifactRef(kind, reference, null, null, 0, null);
  }

  /**
   * This reference without its URI (the path says where it is) and digest ({@code lineage.json}
   * keeps both): what a finished phase's status carries across continue-as-new.
   */
  public ArtifactRef brief() {
    return isExternal() ? this : new ArtifactRef(kind, null, path, phase, step, null);
  }

  @JsonIgnore
  public boolean isExternal() {
    return path == null;
  }
}
