package dev.syllabus.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatisticsTest {
  private static final List<Double> ONE_TO_TEN =
      List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);

  @Test
  void percentileIsTheNearestRankOfTheSortedValues() {
    assertEquals(5.0, Statistics.percentile(ONE_TO_TEN, 50));
    assertEquals(10.0, Statistics.percentile(ONE_TO_TEN, 95));
    assertEquals(10.0, Statistics.percentile(ONE_TO_TEN, 99));
  }

  @Test
  void aLowPercentileIsTheSmallestValue() {
    assertEquals(1.0, Statistics.percentile(ONE_TO_TEN, 0));
  }

  @Test
  void theMeanOfNothingIsZero() {
    assertEquals(0.0, Statistics.mean(List.of()));
    assertEquals(5.5, Statistics.mean(ONE_TO_TEN));
  }

  @Test
  void roundKeepsTwoDecimals() {
    assertEquals(58.33, Statistics.round(58.3349));
    assertEquals(58.34, Statistics.round(58.336));
  }

  @Test
  void percentilesAreWrittenAsP50P99AndMaxInMilliseconds() {
    ObjectNode out = new ObjectMapper().createObjectNode();

    Statistics.putPercentiles(out, List.of(1.004, 2.0, 300.456));

    assertEquals("{\"p50Ms\":2.0,\"p99Ms\":300.46,\"maxMs\":300.46}", out.toString());
  }
}
