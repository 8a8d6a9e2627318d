package dev.syllabus.activities.record;

import com.fasterxml.jackson.databind.JsonNode;
import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.record.RunRecord.Point;
import dev.syllabus.activities.record.RunRecord.Series;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A phase's metric series: the {@code log_history} of its latest complete checkpoint's {@code
 * trainer_state.json} (what Hugging Face trainers write, and the tiny trainer), over global step,
 * downsampled for the run record.
 */
final class MetricSeries {

  private MetricSeries() {}

  /**
   * The series of the phase in {@code folder}, whose first global step is {@code stepStart}; null
   * when it has no complete checkpoint yet, or its state cannot be read.
   */
  static Series read(ArtifactStore store, Path folder, long stepStart) {
    Optional<ArtifactStore.Checkpoint> latest = store.latestCheckpoint(folder);
    if (latest.isEmpty()) {
      return null;
    }
    JsonNode history;
    try {
      history =
          RunRecords.JSON
              .readTree(latest.get().folder().resolve("trainer_state.json").toFile())
              .path("log_history");
    } catch (IOException e) {
      return null;
    }
    List<Point> training = new ArrayList<>();
    List<Point> held = new ArrayList<>();
    int logged = 0;
    for (JsonNode entry : history) {
      if (!entry.path("step").isNumber()) {
        continue;
      }
      logged++;
      long step = stepStart + entry.path("step").asLong();
      Double loss = number(entry, "loss");
      Double evalLoss = number(entry, "eval_loss");
      Double rate = number(entry, "learning_rate");
      if (loss != null || rate != null) {
        training.add(new Point(step, loss, null, rate));
      }
      if (evalLoss != null) {
        held.add(new Point(step, null, evalLoss, null));
      }
    }
    List<Point> points = new ArrayList<>(downsampled(training, Series.MAX_POINTS));
    points.addAll(downsampled(held, Series.MAX_POINTS));
    points.sort((a, b) -> Long.compare(a.step(), b.step()));
    return new Series(logged, points);
  }

  /**
   * At most {@code max} of {@code points}, evenly spread over them, the first and the last always
   * among them.
   */
  static List<Point> downsampled(List<Point> points, int max) {
    int n = points.size();
    if (n <= max) {
      return points;
    }
    List<Point> kept = new ArrayList<>(max);
    for (int i = 0; i < max; i++) {
      kept.add(points.get((int) Math.round((double) i * (n - 1) / (max - 1))));
    }
    return kept;
  }

  private static Double number(JsonNode entry, String field) {
    JsonNode value = entry.get(field);
    return value != null && value.isNumber() ? value.asDouble() : null;
  }
}
