package dev.syllabus.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** The few statistics the bench reports of its measured times: percentiles, means, rounding. */
final class Statistics {
  private Statistics() {}

  /** The nearest-rank percentile of sorted values. */
  static double percentile(List<Double> sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  /** The mean of {@code values}; 0 when there are none. */
  static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElse(0);
  }

  /** {@code value} to two decimals, as the JSON result carries it. */
  static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }

  /**
   * The p50, p99 and maximum of sorted milliseconds, as {@code p50Ms}, {@code p99Ms}, {@code
   * maxMs}.
   */
  static void putPercentiles(ObjectNode out, List<Double> sorted) {
    out.put("p50Ms", round(percentile(sorted, 50)));
    out.put("p99Ms", round(percentile(sorted, 99)));
    out.put("maxMs", sorted.isEmpty() ? 0 : round(sorted.get(sorted.size() - 1)));
  }
}
