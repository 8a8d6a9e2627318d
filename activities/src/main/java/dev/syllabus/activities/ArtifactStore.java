package dev.syllabus.activities;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.ArtifactRef.Kind;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The artifact store: a folder ({@code $SYLLABUS_HOME/runs} locally, a PVC on a cluster) with one
 * folder per run and phase, {@code <root>/<runId>/<index>-<phase>/}, holding the phase's {@code
 * checkpoint-<step>/} folders, and a {@code lineage.json} per run that records every artifact
 * handed on and what it was made from.
 */
public final class ArtifactStore {

  private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** A complete checkpoint: its phase-local step and folder. */
  public record Checkpoint(long step, Path folder) {}

  private final Path root;
  private final Object[] lineageLocks = new Object[64];

  /**
   * Checkpoint folders found complete, with their trainer_state.json's size and time; the latest.
   */
  private final Map<Path, String> completeCheckpoints =
      Collections.synchronizedMap(
          new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Path, String> eldest) {
              return size() > 4096;
            }
          });

  public ArtifactStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
    for (int i = 0; i < lineageLocks.length; i++) {
      lineageLocks[i] = new Object();
    }
  }

  public Path root() {
    return root;
  }

  public Path phaseFolder(JobRef job) {
    return root.resolve(job.phaseFolder());
  }

  /** Where a reference relative to the store lives on this machine. */
  public Path resolve(ArtifactRef ref) {
    return root.resolve(ref.path());
  }

  /**
   * The latest complete checkpoint in a phase folder: a {@code checkpoint-<step>} folder whose
   * {@code trainer_state.json} (written last by trainers) is there and readable. Folders a trainer
   * is still writing, or left half-written, are passed over.
   */
  public Optional<Checkpoint> latestCheckpoint(Path phaseFolder) {
    if (!Files.isDirectory(phaseFolder)) {
      return Optional.empty();
    }
    List<Checkpoint> candidates = new ArrayList<>();
    try (Stream<Path> entries = Files.list(phaseFolder)) {
      for (Path entry : entries.toList()) {
        Matcher m = CHECKPOINT.matcher(entry.getFileName().toString());
        if (m.matches() && Files.isDirectory(entry)) {
          candidates.add(new Checkpoint(Long.parseLong(m.group(1)), entry));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // Newest first, and stop at the first complete one: following a job asks this at every report,
    // and a long run's folder holds many checkpoints whose trainer_state.json grows with its log.
    candidates.sort((a, b) -> Long.compare(b.step(), a.step()));
    return candidates.stream().filter(c -> knownComplete(c.folder())).findFirst();
  }

  /**
   * {@link #isComplete}, remembered: a checkpoint's {@code trainer_state.json} is read once, and
   * again only when its size or time changes.
   */
  private boolean knownComplete(Path checkpoint) {
    BasicFileAttributes state;
    try {
      state =
          Files.readAttributes(checkpoint.resolve("trainer_state.json"), BasicFileAttributes.class);
    } catch (IOException e) {
      return false;
    }
    String stamp = state.size() + "@" + state.lastModifiedTime();
    if (stamp.equals(completeCheckpoints.get(checkpoint))) {
      return true;
    }
    if (!isComplete(checkpoint)) {
      return false;
    }
    completeCheckpoints.put(checkpoint, stamp);
    return true;
  }

  /**
   * Whether a checkpoint folder is complete: its trainer_state.json (written last) is there and
   * reads.
   */
  public static boolean isComplete(Path checkpoint) {
    Path state = checkpoint.resolve("trainer_state.json");
    if (!Files.isRegularFile(state)) {
      return false;
    }
    try {
      JSON.readTree(state.toFile());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Hands a phase on: its latest complete checkpoint becomes the model and optimizer of the output
   * triplet, the data it trained on is written beside it as {@code data.json}, and all three are
   * recorded in the run's lineage. Without a checkpoint the input passes on unchanged.
   */
  public Handoff handOff(PhaseTask task, JobRef job) {
    Path phaseDir = phaseFolder(job);
    Optional<Checkpoint> latest = latestCheckpoint(phaseDir);
    if (latest.isEmpty()) {
      return new Handoff(
          task.input(), null, "no complete checkpoint in " + phaseDir + "; the input passes on");
    }
    Checkpoint checkpoint = latest.get();
    long globalStep = task.steps().start() + checkpoint.step();
    String digest = digest(checkpoint.folder());
    String relative = root.relativize(checkpoint.folder()).toString();
    String phase = task.phase().name();
    ArtifactRef model =
        new ArtifactRef(Kind.MODEL, uri(checkpoint.folder()), relative, phase, globalStep, digest);
    ArtifactRef optimizer =
        new ArtifactRef(
            Kind.OPTIMIZER, uri(checkpoint.folder()), relative, phase, globalStep, digest);
    ArtifactRef data = writeData(task, phaseDir, globalStep);
    Triplet output = new Triplet(model, optimizer, data);
    synchronized (lineageLock(task.runId())) {
      recordLineage(task, output);
    }
    return new Handoff(output, checkpoint.step(), "checkpoint-" + checkpoint.step() + " handed on");
  }

  private ArtifactRef writeData(PhaseTask task, Path phaseDir, long globalStep) {
    ObjectNode data = JSON.createObjectNode();
    data.put("phase", task.phase().name());
    data.set(
        "datasets", JSON.valueToTree(task.data() == null ? List.of() : task.data().datasets()));
    Path file = phaseDir.resolve("data.json");
    writeAtomically(file, toJson(data));
    return new ArtifactRef(
        Kind.DATA,
        uri(file),
        root.relativize(file).toString(),
        task.phase().name(),
        globalStep,
        digest(file));
  }

  /**
   * The lock for one run's lineage file: runs hand off side by side, and only the read-modify-write
   * of a run's {@code lineage.json} needs to wait for another handoff of the same run (a digest of
   * a large checkpoint must not hold up every other run's handoff).
   */
  private Object lineageLock(String runId) {
    return lineageLocks[Math.floorMod(runId.hashCode(), lineageLocks.length)];
  }

  /** Adds the phase's outputs to {@code <root>/<runId>/lineage.json}, replacing earlier entries. */
  private void recordLineage(PhaseTask task, Triplet output) {
    Path file = root.resolve(task.runId()).resolve("lineage.json");
    ObjectNode lineage;
    try {
      lineage =
          Files.isRegularFile(file)
              ? (ObjectNode) JSON.readTree(file.toFile())
              : JSON.createObjectNode();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    lineage.put("runId", task.runId());
    lineage.put("recipe", task.recipe());
    ArrayNode artifacts = lineage.withArray("artifacts");
    Triplet input = task.input();
    boolean carried = task.phase().optimizer().state() == OptimizerState.CARRY;
    List<ArtifactRef> modelInputs = new ArrayList<>();
    if (input.model() != null) {
      modelInputs.add(input.model());
    }
    if (carried && input.optimizer() != null) {
      modelInputs.add(input.optimizer());
    }
    modelInputs.add(output.data());
    record(artifacts, output.model(), task, modelInputs);
    record(
        artifacts,
        output.optimizer(),
        task,
        carried && input.optimizer() != null ? List.of(input.optimizer()) : List.of());
    record(
        artifacts, output.data(), task, input.data() != null ? List.of(input.data()) : List.of());
    writeAtomically(file, toJson(lineage));
  }

  private static void record(
      ArrayNode artifacts, ArtifactRef ref, PhaseTask task, List<ArtifactRef> inputs) {
    for (int i = artifacts.size() - 1; i >= 0; i--) {
      JsonNode existing = artifacts.get(i);
      if (existing.path("uri").asText().equals(ref.uri())
          && existing.path("kind").asText().equals(ref.kind().name())) {
        artifacts.remove(i);
      }
    }
    ObjectNode entry = artifacts.addObject();
    entry.put("uri", ref.uri());
    entry.put("path", ref.path());
    entry.put("kind", ref.kind().name());
    entry.put("phase", ref.phase());
    entry.put("phaseIndex", task.index());
    entry.put("step", ref.step());
    entry.put("digest", ref.digest());
    ArrayNode from = entry.putArray("inputs");
    for (ArtifactRef input : inputs) {
      ObjectNode in = from.addObject();
      in.put("uri", input.uri());
      in.put("kind", input.kind().name());
      if (input.digest() != null) {
        in.put("digest", input.digest());
      }
    }
  }

  /** {@code sha256:} over the relative names and contents of every file under {@code path}. */
  public static String digest(Path path) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      List<Path> files;
      if (Files.isDirectory(path)) {
        try (Stream<Path> walk = Files.walk(path)) {
          files = walk.filter(Files::isRegularFile).sorted().toList();
        }
      } else {
        files = List.of(path);
      }
      byte[] buffer = new byte[1 << 16];
      for (Path file : files) {
        String name =
            Files.isDirectory(path)
                ? path.relativize(file).toString()
                : file.getFileName().toString();
        sha.update(name.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        try (InputStream in = Files.newInputStream(file)) {
          int n;
          while ((n = in.read(buffer)) > 0) {
            sha.update(buffer, 0, n);
          }
        }
      }
      return "sha256:" + HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String uri(Path path) {
    return path.toUri().toString().replaceAll("/$", "");
  }

  private static String toJson(JsonNode node) {
    try {
      return JSON.writeValueAsString(node) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes a file so that readers see either the old or the new content, never half of it. */
  static void writeAtomically(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Path temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
      Files.writeString(temp, content);
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
