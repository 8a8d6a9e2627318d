package dev.syllabus.activities.record;

import com.fasterxml.jackson.databind.JsonNode;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.record.RunRecord.PhaseRecord;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.record.RecordActivities;
import dev.syllabus.workflows.record.RecordUpdate;
import dev.syllabus.workflows.record.RecordUpdate.PhaseEntry;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.PhaseTimes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes run records ({@link RunRecord}) into the artifact store, merging what the run says ({@link
 * RecordUpdate}) with what the store shows: each phase's images ({@code rendered.yaml}) and metric
 * series (its latest checkpoint's {@code log_history}), and the run's lineage.
 */
public final class RunRecordWriter implements RecordActivities {
  private static final Logger log = LoggerFactory.getLogger(RunRecordWriter.class);

  private final ArtifactStore store;
  private final String backend;
  private final String version;
  private final Object[] locks = new Object[64];

  /**
   * @param store the artifact store the run's phases write to
   * @param backend {@code local} or {@code kubernetes}
   * @param version this worker's Syllabus version
   */
  public RunRecordWriter(ArtifactStore store, String backend, String version) {
    this.store = store;
    this.backend = backend;
    this.version = version;
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new Object();
    }
  }

  @Override
  public void writeRecord(RecordUpdate update) {
    Path file = RunRecords.fileOf(store.root(), update.runId());
    synchronized (locks[Math.floorMod(update.runId().hashCode(), locks.length)]) {
      RunRecord before = existing(file);
      write(file, merged(before, update));
    }
  }

  /** The record after {@code update}: {@code before} (or a new one) with the update applied. */
  RunRecord merged(RunRecord before, RecordUpdate update) {
    RecordUpdate.Start start = update.start();
    JsonNode recipeJson =
        start != null
            ? RunRecords.JSON.valueToTree(start.recipe())
            : before == null ? null : before.resolvedRecipe();
    List<PhaseRecord> phases = new ArrayList<>();
    if (start != null) {
      phases.addAll(skeleton(start.recipe()));
    }
    if (before != null) {
      for (PhaseRecord kept : before.phases()) {
        set(phases, kept);
      }
    }
    RunRecord retried =
        start != null && start.retryOf() != null
            ? existing(RunRecords.fileOf(store.root(), start.retryOf().runId()))
            : null;
    for (PhaseEntry entry : update.phases()) {
      PhaseRecord earlier = at(phases, entry.status().index());
      set(phases, entry.reused() ? reused(entry, retried) : phase(update.runId(), entry, earlier));
    }
    String startedAt = iso(start == null ? null : start.startedAt());
    if (before != null && before.startedAt() != null) {
      startedAt = before.startedAt();
    }
    return new RunRecord(
        RunRecord.SCHEMA,
        update.runId(),
        start != null ? start.recipe().name() : before == null ? null : before.recipe(),
        recipeJson,
        version,
        backend,
        start != null ? start.retryOf() : before == null ? null : before.retryOf(),
        update.state().name(),
        update.message(),
        startedAt,
        update.ended() ? iso(update.at()) : null,
        iso(update.at()),
        update.step(),
        start != null
            ? start.recipe().schedule().totalSteps()
            : before == null ? 0 : before.totalSteps(),
        phases,
        lineage(update.runId()));
  }

  /** Every phase of {@code recipe}, not started yet. */
  private static List<PhaseRecord> skeleton(Recipe recipe) {
    List<PhaseRecord> phases = new ArrayList<>();
    List<StepRange> ranges = recipe.stepRanges();
    for (int i = 0; i < recipe.phases().size(); i++) {
      Phase phase = recipe.phases().get(i);
      StepRange range = ranges.get(i);
      phases.add(
          new PhaseRecord(
              i,
              phase.name(),
              phase.framework(),
              phase.workload(),
              "PENDING",
              range.start(),
              range.end(),
              range.start(),
              0,
              null,
              null,
              null,
              null,
              null,
              null,
              phase.gpus(),
              null,
              null,
              null,
              null,
              null,
              null,
              null));
    }
    return phases;
  }

  /** Phase {@code entry} as the run reports it, with its images and series from the store. */
  private PhaseRecord phase(String runId, PhaseEntry entry, PhaseRecord earlier) {
    PhaseStatus status = entry.status();
    PhaseTimes times = entry.times();
    Path folder = store.root().resolve(Names.phaseFolder(runId, status.index(), status.name()));
    int gpus = times != null ? times.gpus() : earlier == null ? 0 : earlier.gpus();
    Double running = times == null ? null : times.runningMillis() / 1000.0;
    String startedAt = iso(entry.startedAt());
    if (startedAt == null && earlier != null) {
      startedAt = earlier.startedAt();
    }
    return new PhaseRecord(
        status.index(),
        status.name(),
        status.framework(),
        status.workload(),
        status.state().name(),
        status.stepStart(),
        status.stepEnd(),
        status.step(),
        status.attempt(),
        startedAt,
        iso(entry.endedAt()),
        running,
        times == null ? null : times.queuedMillis() / 1000.0,
        times == null ? null : times.pausedMillis() / 1000.0,
        times == null || times.handoffMillis() == null ? null : times.handoffMillis() / 1000.0,
        gpus,
        running == null ? null : gpus * running / 3600.0,
        PhaseImages.read(folder.resolve(PhaseImages.FILE_NAME)),
        status.loss(),
        status.evalLoss(),
        entry.output(),
        status.message(),
        MetricSeries.read(store, folder, status.stepStart()));
  }

  /**
   * A phase a retry took over: as the record of the run it retries has it, when there is one; else
   * as the run carried it.
   */
  private PhaseRecord reused(PhaseEntry entry, RunRecord retried) {
    PhaseStatus status = entry.status();
    String from = retried == null ? "the run it retries" : "run " + retried.runId();
    Optional<PhaseRecord> earlier =
        retried == null
            ? Optional.empty()
            : retried.phases().stream().filter(p -> p.index() == status.index()).findFirst();
    if (earlier.isPresent()) {
      return earlier
          .get()
          .reused(
              entry.output(),
              "taken over from " + from + ", where it ended " + earlier.get().state());
    }
    return new PhaseRecord(
        status.index(),
        status.name(),
        status.framework(),
        status.workload(),
        "REUSED",
        status.stepStart(),
        status.stepEnd(),
        status.step(),
        status.attempt(),
        null,
        null,
        null,
        null,
        null,
        null,
        0,
        null,
        null,
        status.loss(),
        status.evalLoss(),
        entry.output(),
        "taken over from " + from + ", where it ended " + status.state(),
        null);
  }

  private static PhaseRecord at(List<PhaseRecord> phases, int index) {
    return index < phases.size() ? phases.get(index) : null;
  }

  private static void set(List<PhaseRecord> phases, PhaseRecord phase) {
    while (phases.size() <= phase.index()) {
      phases.add(null);
    }
    phases.set(phase.index(), phase);
  }

  /** The run's lineage: the entries of its {@code lineage.json}, or none yet. */
  private List<JsonNode> lineage(String runId) {
    Path file = store.root().resolve(runId).resolve("lineage.json");
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    try {
      JsonNode artifacts = RunRecords.JSON.readTree(file.toFile()).path("artifacts");
      List<JsonNode> entries = new ArrayList<>();
      artifacts.forEach(entries::add);
      return entries;
    } catch (IOException e) {
      log.warn("the lineage of run {} could not be read: {}", runId, e.getMessage());
      return List.of();
    }
  }

  /** The record in {@code file}, or null when there is none (or one this version cannot read). */
  private static RunRecord existing(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return RunRecords.read(file);
    } catch (RunRecords.NotARecord e) {
      log.warn("{}; it is written anew", e.getMessage());
      return null;
    }
  }

  /** Writes {@code record} whole, so that a reader never sees half of it. */
  private static void write(Path file, RunRecord record) {
    try {
      Files.createDirectories(file.getParent());
      Path partial = file.resolveSibling(RunRecord.FILE_NAME + ".partial");
      Files.writeString(partial, RunRecords.toJson(record));
      Files.move(
          partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("the run record " + file + " could not be written", e);
    }
  }

  private static String iso(Long epochMillis) {
    return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis).toString();
  }
}
