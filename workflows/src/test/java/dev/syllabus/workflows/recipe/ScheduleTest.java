package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Normalized time and steps, and how phases resolve to step ranges, at the edges. */
class ScheduleTest {

  private static final FrameworkCatalog TINY =
      FrameworkCatalog.of(
          "kubeconfigs/",
          new FrameworkCatalog.Framework("tiny", Map.of("train", Set.of("train")), List.of()));

  // --- t and steps ----------------------------------------------------------------------------

  @Test
  void timeZeroIsStepZero() {
    assertEquals(0, new Schedule(3000).stepAt(0.0));
    assertEquals(0.0, new Schedule(3000).timeAt(0));
  }

  @Test
  void timeOneIsStepT() {
    assertEquals(3000, new Schedule(3000).stepAt(1.0));
    assertEquals(1.0, new Schedule(3000).timeAt(3000));
  }

  @Test
  void decimalTimesGiveExactSteps() {
    assertEquals(900, new Schedule(3000).stepAt(0.3), "0.3 * 3000 is 900, not 899.99…");
    assertEquals(1950, new Schedule(3000).stepAt(0.65));
  }

  @Test
  void thirdsRoundToTheNearestStep() {
    assertEquals(1000, new Schedule(3000).stepAt(1.0 / 3));
    assertEquals(2000, new Schedule(3000).stepAt(2.0 / 3));
    assertEquals(333, new Schedule(1000).stepAt(1.0 / 3));
  }

  @Test
  void halfAStepRoundsUp() {
    assertEquals(2, new Schedule(3).stepAt(0.5));
  }

  // --- one step -------------------------------------------------------------------------------

  @Test
  void onAOneStepScheduleASinglePhaseCoversStepZero() {
    Recipe r = Recipe.builder("t").totalSteps(1).phase(phase("only").until(1.0)).build();
    assertEquals(List.of(new StepRange(0, 1)), r.stepRanges());
    assertEquals(List.of(), RecipeValidator.validate(r, SourceMap.none("t"), TINY));
  }

  /** Step 0 is at t = 0, inside the first phase's [0, 0.5); nothing is left for the second. */
  @Test
  void onAOneStepScheduleTheSecondOfTwoHalvesCoversNoStepsAndTheValidatorSaysSo() {
    Recipe r =
        Recipe.builder("t")
            .totalSteps(1)
            .phase(phase("a").until(0.5))
            .phase(phase("b").until(1.0))
            .build();
    assertEquals(List.of(new StepRange(0, 1), new StepRange(1, 1)), r.stepRanges());
    assertEquals(
        List.of(
            new Problem(
                "t", 0, "phases[1].until", "covers no steps: it starts and ends at step 1 of 1")),
        RecipeValidator.validate(r, SourceMap.none("t"), TINY));
  }

  @Test
  void onAOneStepScheduleAFirstPhaseEndingBeforeHalfwayCoversNoStepsAndTheValidatorSaysSo() {
    Recipe r =
        Recipe.builder("t")
            .totalSteps(1)
            .phase(phase("a").until(0.4))
            .phase(phase("b").until(1.0))
            .build();
    assertEquals(List.of(new StepRange(0, 0), new StepRange(0, 1)), r.stepRanges());
    assertEquals(
        List.of(
            new Problem(
                "t", 0, "phases[0].until", "covers no steps: it starts and ends at step 0 of 1")),
        RecipeValidator.validate(r, SourceMap.none("t"), TINY));
  }

  // --- resolve --------------------------------------------------------------------------------

  @Test
  void untilPhasesEndAtTheirTimes() {
    Recipe r =
        Recipe.builder("t")
            .totalSteps(3000)
            .phase(phase("a").until(0.3))
            .phase(phase("b").until(0.65))
            .phase(phase("c").until(1.0))
            .build();
    assertEquals(
        List.of(new StepRange(0, 900), new StepRange(900, 1950), new StepRange(1950, 3000)),
        r.stepRanges());
  }

  @Test
  void stepPhasesFollowEachOtherAndTheirSumIsT() {
    Recipe r =
        Recipe.builder("t").phase(phase("a").steps(100)).phase(phase("b").steps(250)).build();
    assertEquals(350, r.schedule().totalSteps());
    assertEquals(List.of(new StepRange(0, 100), new StepRange(100, 350)), r.stepRanges());
    assertEquals(List.of(), RecipeValidator.validate(r, SourceMap.none("t"), TINY));
  }

  @Test
  void untilAndStepsPhasesMayBeMixed() {
    Recipe r =
        Recipe.builder("t")
            .totalSteps(1000)
            .phase(phase("warmup").steps(50))
            .phase(phase("main").until(0.8))
            .phase(phase("cool").until(1.0))
            .build();
    assertEquals(
        List.of(new StepRange(0, 50), new StepRange(50, 800), new StepRange(800, 1000)),
        r.stepRanges());
    assertEquals(List.of(), RecipeValidator.validate(r, SourceMap.none("t"), TINY));
  }

  // --- StepRange ------------------------------------------------------------------------------

  @Test
  void aStepRangeIsHalfOpen() {
    StepRange r = new StepRange(900, 1950);
    assertEquals(1050, r.length());
    assertFalse(r.isEmpty());
    assertEquals("[900, 1950)", r.toString());
  }

  @Test
  void aStepRangeThatEndsWhereItStartsIsEmpty() {
    StepRange r = new StepRange(5, 5);
    assertEquals(0, r.length());
    assertTrue(r.isEmpty());
  }

  @Test
  void aStepRangeThatEndsBeforeItStartsIsEmpty() {
    assertTrue(new StepRange(5, 4).isEmpty());
  }

  private static Phase.Builder phase(String name) {
    return Phase.builder(name).framework("tiny", "train");
  }
}
