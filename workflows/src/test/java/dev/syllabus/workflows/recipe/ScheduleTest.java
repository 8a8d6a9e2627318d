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

  @Test
  void timeZeroAndOneAreTheFirstAndLastStep() {
    Schedule s = new Schedule(3000);
    assertEquals(0, s.stepAt(0.0));
    assertEquals(3000, s.stepAt(1.0));
    assertEquals(0.0, s.timeAt(0));
    assertEquals(1.0, s.timeAt(3000));
  }

  @Test
  void fractionsRoundToTheNearestStepWithoutFloatingPointDrift() {
    Schedule s = new Schedule(3000);
    assertEquals(900, s.stepAt(0.3));
    assertEquals(1000, s.stepAt(1.0 / 3));
    assertEquals(1950, s.stepAt(0.65));
    assertEquals(2, new Schedule(3).stepAt(0.5), "1.5 steps round up to 2");
  }

  @Test
  void aOneStepScheduleHasOnePhaseOfOneStep() {
    Schedule s = new Schedule(1);
    List<StepRange> ranges = s.resolve(List.of(phase("only").until(1.0).build()));
    assertEquals(List.of(new StepRange(0, 1)), ranges);
    assertEquals(1, ranges.get(0).length());
  }

  @Test
  void onAOneStepScheduleTwoPhasesLeaveOneEmptyAndTheValidatorSaysSo() {
    Recipe r =
        Recipe.builder("t")
            .totalSteps(1)
            .phase(phase("a").until(0.4))
            .phase(phase("b").until(1.0))
            .build();
    assertEquals(List.of(new StepRange(0, 0), new StepRange(0, 1)), r.stepRanges());
    assertTrue(r.stepRanges().get(0).isEmpty());
    List<Problem> problems = RecipeValidator.validate(r, SourceMap.none("t"), TINY);
    assertEquals(1, problems.size(), problems.toString());
    assertEquals("phases[0].until", problems.get(0).path());
    assertEquals("covers no steps: it starts and ends at step 0 of 1", problems.get(0).message());
  }

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
  void stepPhasesFollowEachOtherAndMayDefineT() {
    Recipe r =
        Recipe.builder("t").phase(phase("a").steps(100)).phase(phase("b").steps(250)).build();
    assertEquals(350, r.schedule().totalSteps());
    assertEquals(List.of(new StepRange(0, 100), new StepRange(100, 350)), r.stepRanges());
    assertTrue(RecipeValidator.validate(r, SourceMap.none("t"), TINY).isEmpty());
  }

  @Test
  void untilAndStepsMayBeMixed() {
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
    assertTrue(RecipeValidator.validate(r, SourceMap.none("t"), TINY).isEmpty());
  }

  @Test
  void aStepRangeIsHalfOpen() {
    StepRange r = new StepRange(900, 1950);
    assertEquals(1050, r.length());
    assertFalse(r.isEmpty());
    assertEquals("[900, 1950)", r.toString());
  }

  private static Phase.Builder phase(String name) {
    return Phase.builder(name).framework("tiny", "train");
  }
}
