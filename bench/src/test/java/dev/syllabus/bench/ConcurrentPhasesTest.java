package dev.syllabus.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConcurrentPhasesTest {

  @Test
  void eachJobTrainsThroughTheStartAllowanceAndTheHold() {
    // 500 phases: 750 s to start them all, then 300 s held, at a step a second.
    assertEquals(1_050, ConcurrentPhases.steps(500, 300, 1.0));
    // 20 phases: 40 s to start, 30 s held, at two steps a second.
    assertEquals(140, ConcurrentPhases.steps(20, 30, 0.5));
  }

  @Test
  void theHoldIsSampledAtMostFourTimesAndNoMoreOftenThanEveryTwentySeconds() {
    assertEquals(4, ConcurrentPhases.samples(300));
    assertEquals(2, ConcurrentPhases.samples(45));
    assertEquals(1, ConcurrentPhases.samples(30));
    assertEquals(1, ConcurrentPhases.samples(5));
  }

  @Test
  void nothingCappedPhasesThatAllRanAndReportedThroughoutTheHold() {
    List<String> caps =
        ConcurrentPhases.capsSeen(true, 500, 500, 512, 600, List.of(5.0, 12.0), 500, 300.5, 300);

    assertTrue(caps.isEmpty(), caps.toString());
  }

  @Test
  void everySlotTakenAndFollowsWaitingIsACapOfTheActivitySlots() {
    List<String> caps =
        ConcurrentPhases.capsSeen(
            true, 500, 500, 200, 200, List.of(100.0, 9_000.0), 500, 300.5, 300);

    assertEquals(
        List.of(
            "every activity slot was taken (200)",
            "follow activities waited for a slot (p99 9.0 s)"),
        caps);
  }

  @Test
  void podsThatNeverAllRanAndRunsWithoutProgressAreSaid() {
    List<String> caps =
        ConcurrentPhases.capsSeen(false, 431, 500, 300, 600, List.of(), 420, 120, 300);

    assertEquals(
        List.of(
            "only 431 of 500 pods ran at once",
            "80 phases showed no progress in some sample",
            "held 120 s of 300: a job ended before the hold"),
        caps);
  }
}
