package dev.syllabus.starter;

import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecord.PhaseRecord;
import dev.syllabus.activities.record.RunRecords;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The runs {@code syllabus list} finds in their records ({@code <store>/<run>/record.json}) rather
 * than in Temporal: those Temporal no longer keeps, or all of them when no Temporal runs (after
 * {@code demo}, whose Temporal ends with it). A record says where its run stood when it was last
 * written.
 */
final class RecordedRuns {

  private RecordedRuns() {}

  /**
   * The recorded runs in {@code store} in {@code state} (any, when null) of {@code recipe} (any,
   * when null), the {@code limit} most recently started first. Folders without a readable record
   * are passed over.
   */
  static List<ListedRun> list(Path store, ListedRun.State state, String recipe, int limit) {
    if (!Files.isDirectory(store)) {
      return List.of();
    }
    List<ListedRun> runs = new ArrayList<>();
    try (Stream<Path> folders = Files.list(store)) {
      for (Path folder : folders.sorted().toList()) {
        Path file = folder.resolve(RunRecord.FILE_NAME);
        if (Files.isRegularFile(file)) {
          listed(file)
              .filter(run -> state == null || run.state() == state)
              .filter(run -> recipe == null || recipe.equals(run.recipe()))
              .ifPresent(runs::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    runs.sort(Comparator.comparing(ListedRun::started).reversed());
    return runs.subList(0, Math.min(limit, runs.size()));
  }

  /** The run {@code file} records, or nothing when it is not a record this version reads. */
  static Optional<ListedRun> listed(Path file) {
    RunRecord record;
    try {
      record = RunRecords.read(file);
    } catch (RunRecords.NotARecord e) {
      return Optional.empty();
    }
    Optional<ListedRun.State> state = state(record.state());
    Instant started = instant(record.startedAt());
    if (state.isEmpty() || started == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ListedRun(
            record.runId(),
            record.recipe(),
            state.get(),
            current(record.phases()),
            record.step(),
            record.totalSteps() > 0 ? (double) record.step() / record.totalSteps() : null,
            started,
            instant(record.endedAt())));
  }

  /**
   * The run as its record last said, as {@code status} shows a run: a phase a retry took over shows
   * COMPLETED with no job of its own (its message names the run it came from).
   */
  static RunStatus status(RunRecord record) {
    List<PhaseStatus> phases = new ArrayList<>();
    int current = 0;
    for (PhaseRecord p : record.phases()) {
      boolean reused = p.state().equals("REUSED");
      PhaseState state = reused ? PhaseState.COMPLETED : PhaseState.valueOf(p.state());
      phases.add(
          new PhaseStatus(
              p.index(),
              p.name(),
              p.framework(),
              p.workload(),
              state,
              p.stepStart(),
              p.stepEnd(),
              p.step(),
              p.loss(),
              p.evalLoss(),
              reused ? 0 : p.attempts(),
              p.output(),
              p.message(),
              null,
              0));
      if (!p.state().equals("PENDING")) {
        current = p.index();
      }
    }
    return new RunStatus(
        record.runId(),
        record.recipe(),
        RunState.valueOf(record.state()),
        record.step(),
        record.totalSteps(),
        record.totalSteps() > 0 ? (double) record.step() / record.totalSteps() : 0,
        current,
        phases,
        handedOnLast(record),
        record.message());
  }

  /**
   * What the run's last phase that handed anything on handed on: what its next phase starts from.
   */
  static Triplet handedOnLast(RunRecord record) {
    Triplet last = null;
    for (PhaseRecord phase : record.phases()) {
      if (phase.output() != null) {
        last = phase.output();
      }
    }
    return last;
  }

  /** The phase running, or the last one that ran. */
  private static String current(List<PhaseRecord> phases) {
    String last = null;
    for (PhaseRecord phase : phases) {
      if (phase.state().equals("PENDING")) {
        break;
      }
      last = phase.name();
      if (phase.endedAt() == null) {
        break;
      }
    }
    return last;
  }

  private static Optional<ListedRun.State> state(String recorded) {
    try {
      return Optional.of(ListedRun.State.valueOf(recorded));
    } catch (IllegalArgumentException | NullPointerException e) {
      return Optional.empty();
    }
  }

  private static Instant instant(String iso) {
    try {
      return iso == null ? null : Instant.parse(iso);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
