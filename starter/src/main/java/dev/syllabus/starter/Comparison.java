package dev.syllabus.starter;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecord.PhaseRecord;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What {@code syllabus compare} shows of some runs, from their records: for each run and each of
 * its phases the steps trained, the final training and held-out loss, the wall time and the
 * GPU-hours, a total line per run, and where the runs' recipes differ. The terminal table, the JSON
 * and the HTML report all show this one object.
 *
 * @param runs the runs, in the order they were named
 * @param recipeDifferences the settings whose values are not the same in every run
 */
record Comparison(List<Run> runs, List<RecipeDifferences.Difference> recipeDifferences) {

  /**
   * One run.
   *
   * @param runId the run id
   * @param recipe the recipe's name
   * @param state the run's state when its record was last written
   * @param backend {@code local} or {@code kubernetes}
   * @param startedAt when it started (ISO-8601)
   * @param endedAt when it ended, or null while it runs
   * @param message why it is in its state, when the record says
   * @param record the file it was read from
   * @param phases one row per phase
   * @param total the run as a whole
   */
  record Run(
      String runId,
      String recipe,
      String state,
      String backend,
      String startedAt,
      String endedAt,
      String message,
      String record,
      List<Row> phases,
      Row total) {}

  /**
   * One line of the table: a phase, or a run's total.
   *
   * @param phase the phase's name, or {@code total}
   * @param state its state
   * @param stepStart its first global step
   * @param stepEnd one past its last
   * @param steps steps it trained, or null for a phase that has not started or that a retry reused
   * @param loss its final training loss (the total: the last phase's that has one)
   * @param evalLoss its final held-out loss (the total: likewise)
   * @param wallSeconds from its start to its end, or to the record's last write while it runs
   * @param gpuHours GPUs × the seconds its job ran / 3600, or null when not known
   */
  record Row(
      String phase,
      String state,
      long stepStart,
      long stepEnd,
      Long steps,
      Double loss,
      Double evalLoss,
      Double wallSeconds,
      Double gpuHours) {}

  /** Phase states with no steps of this run's own. */
  private static final Set<String> NOT_TRAINED = Set.of("PENDING", "REUSED");

  private static final DateTimeFormatter SHOWN_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  /** The comparison of {@code records} (each read from the matching file of {@code files}). */
  static Comparison of(List<RunRecord> records, List<String> files) {
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      runs.add(run(records.get(i), files.get(i)));
    }
    return new Comparison(
        runs, RecipeDifferences.between(records.stream().map(RunRecord::resolvedRecipe).toList()));
  }

  private static Run run(RunRecord record, String file) {
    List<Row> phases = new ArrayList<>();
    for (PhaseRecord p : record.phases()) {
      Long steps =
          NOT_TRAINED.contains(p.state())
              ? null
              : Math.max(0, Math.min(p.step(), p.stepEnd()) - p.stepStart());
      String end = p.endedAt() != null ? p.endedAt() : record.updatedAt();
      phases.add(
          new Row(
              p.name(),
              p.state(),
              p.stepStart(),
              p.stepEnd(),
              steps,
              p.loss(),
              p.evalLoss(),
              p.startedAt() == null ? null : seconds(p.startedAt(), end),
              p.gpuHours()));
    }
    String end = record.endedAt() != null ? record.endedAt() : record.updatedAt();
    Row total =
        new Row(
            "total",
            record.state(),
            0,
            record.totalSteps(),
            phases.stream().map(Row::steps).filter(Objects::nonNull).mapToLong(s -> s).sum(),
            phases.stream()
                .map(Row::loss)
                .filter(Objects::nonNull)
                .reduce((a, b) -> b)
                .orElse(null),
            phases.stream()
                .map(Row::evalLoss)
                .filter(Objects::nonNull)
                .reduce((a, b) -> b)
                .orElse(null),
            seconds(record.startedAt(), end),
            phases.stream()
                .map(Row::gpuHours)
                .filter(Objects::nonNull)
                .reduce(Double::sum)
                .orElse(null));
    return new Run(
        record.runId(),
        record.recipe(),
        record.state(),
        record.backend(),
        record.startedAt(),
        record.endedAt(),
        record.message(),
        file,
        phases,
        total);
  }

  /** Seconds from {@code start} to {@code end} (ISO-8601), or null when either is not known. */
  private static Double seconds(String start, String end) {
    Instant from = instant(start);
    Instant to = instant(end);
    if (from == null || to == null) {
      return null;
    }
    return Duration.between(from, to).toMillis() / 1000.0;
  }

  private static Instant instant(String iso) {
    if (iso == null) {
      return null;
    }
    try {
      return Instant.parse(iso);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  // --- as people read it --------------------------------------------------------------------

  /** The terminal's view: the runs, the phases of each with its total, the recipe differences. */
  String table() {
    StringBuilder out = new StringBuilder();
    List<String[]> about = new ArrayList<>();
    about.add(new String[] {"run", "recipe", "state", "started", "backend"});
    for (Run run : runs) {
      about.add(
          new String[] {
            run.runId(), run.recipe(), run.state(), time(run.startedAt()), dash(run.backend())
          });
    }
    out.append(aligned(about, ""));
    for (Run run : runs) {
      if (run.message() != null) {
        out.append(run.runId()).append(": ").append(run.message()).append('\n');
      }
    }

    out.append('\n');
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "run", "phase", "state", "steps", "loss", "eval loss", "wall time", "GPU-hours"
        });
    for (Run run : runs) {
      String id = run.runId();
      for (Row row : run.phases()) {
        rows.add(cells(id, row));
        id = "";
      }
      rows.add(cells(id, run.total()));
    }
    out.append(aligned(rows, "LLLRLLRR"));

    if (runs.size() > 1) {
      out.append('\n');
      if (recipeDifferences.isEmpty()) {
        out.append("recipes: the same in every run\n");
      } else {
        List<String[]> differences = new ArrayList<>();
        String[] header = new String[runs.size() + 1];
        header[0] = "recipe setting";
        for (int i = 0; i < runs.size(); i++) {
          header[i + 1] = runs.get(i).runId();
        }
        differences.add(header);
        for (RecipeDifferences.Difference d : recipeDifferences) {
          String[] line = new String[runs.size() + 1];
          line[0] = d.path();
          for (int i = 0; i < runs.size(); i++) {
            line[i + 1] = RecipeDifferences.shown(d.values().get(i));
          }
          differences.add(line);
        }
        out.append(aligned(differences, ""));
      }
    }
    return out.toString();
  }

  /** The same as {@link #table()}, as one JSON object. */
  String json() {
    try {
      return RunView.JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the comparison could not be written as JSON", e);
    }
  }

  private static String[] cells(String runId, Row row) {
    return new String[] {
      runId,
      row.phase(),
      row.state(),
      row.steps() == null ? "–" : Long.toString(row.steps()),
      number(row.loss()),
      number(row.evalLoss()),
      duration(row.wallSeconds()),
      gpuHours(row.gpuHours())
    };
  }

  /**
   * Rows as columns two spaces apart, each as wide as its widest cell; {@code align} has an {@code
   * R} for each column aligned to the right (left when missing).
   */
  private static String aligned(List<String[]> rows, String align) {
    int columns = rows.get(0).length;
    int[] width = new int[columns];
    for (String[] row : rows) {
      for (int c = 0; c < columns; c++) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < columns; c++) {
        String pad = " ".repeat(width[c] - row[c].length());
        boolean right = c < align.length() && align.charAt(c) == 'R';
        line.append(c == 0 ? "" : "  ").append(right ? pad + row[c] : row[c] + pad);
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }

  /** A loss to four significant digits, plain unless it is tiny; "–" when not known. */
  static String number(Double value) {
    if (value == null) {
      return "–";
    }
    if (value.isNaN() || value.isInfinite()) {
      return value.toString();
    }
    if (value != 0 && Math.abs(value) < 1e-5) {
      return String.format(Locale.ROOT, "%.3e", value);
    }
    return BigDecimal.valueOf(value).round(new MathContext(4)).stripTrailingZeros().toPlainString();
  }

  /** Seconds as {@code 14.2s}, {@code 3m 05s} or {@code 2h 07m}; "–" when not known. */
  static String duration(Double seconds) {
    if (seconds == null) {
      return "–";
    }
    if (seconds < 60) {
      return String.format(Locale.ROOT, "%.1fs", seconds);
    }
    long whole = Math.round(seconds);
    if (whole < 3600) {
      return String.format(Locale.ROOT, "%dm %02ds", whole / 60, whole % 60);
    }
    return String.format(Locale.ROOT, "%dh %02dm", whole / 3600, whole % 3600 / 60);
  }

  /** GPU-hours to two decimals; "–" when not known. */
  static String gpuHours(Double hours) {
    return hours == null ? "–" : String.format(Locale.ROOT, "%.2f", hours);
  }

  /** An ISO-8601 time as {@code 2026-12-07 15:01:02 UTC}; as given when it is not one. */
  static String time(String iso) {
    Instant instant = instant(iso);
    return instant == null ? dash(iso) : SHOWN_TIME.format(instant);
  }

  private static String dash(String text) {
    return text == null ? "–" : text;
  }
}
