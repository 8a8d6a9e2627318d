package dev.syllabus.starter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Whether the artifacts a retry starts from are still in the local artifact store ({@code
 * $SYLLABUS_HOME/runs}, the {@code local} backend's) as they were handed on: there, complete, and
 * with the digest the handoff recorded. A store this machine cannot see (a PVC on a cluster) is not
 * checked, and the answer says so.
 */
final class StoredArtifacts {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The artifacts are fine ({@code problem} null), or not; {@code checked} false: not looked at.
   */
  record Verdict(boolean checked, String problem) {}

  private final Path root;

  StoredArtifacts(Path root) {
    this.root = root;
  }

  /** Checks every stored part of {@code start} (external references, e.g. hub ids, are skipped). */
  Verdict check(Triplet start) {
    Map<Path, String> digests = new HashMap<>();
    boolean any = false;
    for (ArtifactRef ref :
        Stream.of(start.model(), start.optimizer(), start.data())
            .filter(r -> r != null && !r.isExternal())
            .toList()) {
      String producer = ref.path().split("/", 2)[0];
      if (!Files.isDirectory(root.resolve(producer))) {
        return new Verdict(
            false,
            "not checked: run "
                + producer
                + "'s artifacts are not in this machine's store ("
                + root
                + "); a cluster's store is checked by the phase's handoff");
      }
      any = true;
      Path where = root.resolve(ref.path()).normalize();
      String name = ref.kind().name().toLowerCase(java.util.Locale.ROOT);
      if (!Files.exists(where)) {
        return new Verdict(true, "the " + name + " to start from is missing: " + where);
      }
      if (Files.isDirectory(where) && !ArtifactStore.isComplete(where)) {
        return new Verdict(
            true,
            "the "
                + name
                + " to start from is incomplete (no readable trainer_state.json): "
                + where);
      }
      String expected = ref.digest() != null ? ref.digest() : lineageDigest(producer, ref.path());
      if (expected != null
          && !expected.equals(digests.computeIfAbsent(where, ArtifactStore::digest))) {
        return new Verdict(
            true,
            "the "
                + name
                + " to start from has changed since it was handed on (its digest is not "
                + expected
                + "): "
                + where);
      }
    }
    return new Verdict(any, null);
  }

  /** The digest {@code <run>/lineage.json} recorded for the artifact at {@code path}, or null. */
  private String lineageDigest(String run, String path) {
    Path file = root.resolve(run).resolve("lineage.json");
    try {
      for (JsonNode entry : JSON.readTree(file.toFile()).path("artifacts")) {
        if (path.equals(entry.path("path").asText()) && entry.hasNonNull("digest")) {
          return entry.get("digest").asText();
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }
}
