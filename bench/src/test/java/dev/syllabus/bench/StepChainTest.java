package dev.syllabus.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.syllabus.bench.StepChain.StepPod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepChainTest {
  private static final long MS = 1_000_000L;

  /**
   * Three steps of 5 s, submitted at 1000 ms: pods created at 1200, 6700 and 13900 ms, each
   * Succeeded 5.1 s after it was created.
   */
  private static final List<StepPod> THREE =
      List.of(
          new StepPod("s0", 1_200 * MS, 6_300 * MS),
          new StepPod("s1", 6_700 * MS, 11_800 * MS),
          new StepPod("s2", 13_900 * MS, 19_000 * MS));

  @Test
  void aGapRunsFromAPodSucceededToTheNextPodCreated() {
    StepChain chain = new StepChain("engine", 1_000 * MS, THREE, 5);
    assertEquals(List.of(400.0, 2_100.0), chain.gapsMillis());
  }

  @Test
  void podsAreTakenInTheOrderTheyWereCreatedWhateverOrderTheyCameIn() {
    StepChain chain =
        new StepChain("engine", 1_000 * MS, List.of(THREE.get(2), THREE.get(0), THREE.get(1)), 5);
    assertEquals(List.of(400.0, 2_100.0), chain.gapsMillis());
    assertEquals("s0", chain.pods().get(0).name());
  }

  @Test
  void theOverheadIsTheWallTimeBeyondTheStepsOwnTime() {
    StepChain chain = new StepChain("engine", 1_000 * MS, THREE, 5);
    assertEquals(18.0, chain.wallSeconds(), 1e-9);
    assertEquals(3.0, chain.overheadSeconds(), 1e-9);
  }

  @Test
  void aGapSplitsAtTheMomentBetweenItsPods() {
    StepChain chain = new StepChain("engine", 1_000 * MS, THREE, 5);
    List<double[]> parts = chain.gapsSplitAt(Map.of("s0", 6_500 * MS, "s1", 12_800 * MS));
    assertEquals(2, parts.size());
    assertArrayEquals(new double[] {200.0, 200.0}, parts.get(0));
    assertArrayEquals(new double[] {1_000.0, 1_100.0}, parts.get(1));
  }

  @Test
  void aGapWhosePreviousPodHasNoMomentIsNotSplit() {
    StepChain chain = new StepChain("engine", 1_000 * MS, THREE, 5);
    assertEquals(1, chain.gapsSplitAt(Map.of("s1", 12_800 * MS)).size());
  }

  @Test
  void theFirstStepIsTimedFromTheSubmission() {
    StepChain chain = new StepChain("engine", 1_000 * MS, THREE, 5);
    assertEquals(200.0, chain.firstStepMillis(), 1e-9);
  }

  @Test
  void aChainOfOneStepHasNoGap() {
    StepChain chain = new StepChain("engine", 0, List.of(THREE.get(0)), 5);
    assertEquals(List.of(), chain.gapsMillis());
    assertEquals(1.3, chain.overheadSeconds(), 1e-9);
  }

  @Test
  void aPodSeenSucceededBeforeItWasCreatedIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new StepPod("s0", 2 * MS, 1 * MS));
  }

  @Test
  void aChainWithoutPodsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new StepChain("engine", 0, List.of(), 5));
  }
}
