package dev.syllabus.workflows.recipe;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Training time. A run has {@code totalSteps} steps T; normalized time is t = step / T in [0, 1].
 * Phases own half-open step ranges that follow each other without gaps.
 *
 * @param totalSteps T, at least 1
 */
public record Schedule(long totalSteps) {

  /** The step at normalized time t, rounded half up: t = 0.3 with T = 3000 is step 900. */
  public long stepAt(double t) {
    return BigDecimal.valueOf(t)
        .multiply(BigDecimal.valueOf(totalSteps))
        .setScale(0, RoundingMode.HALF_UP)
        .longValueExact();
  }

  /** Normalized time of a global step. */
  public double timeAt(long step) {
    return totalSteps == 0 ? 0 : (double) step / totalSteps;
  }

  /**
   * The step range of each phase: each starts where the previous one ended; a phase ends at {@code
   * stepAt(until)} or after {@code steps} steps. Does not check coverage; {@link RecipeValidator}
   * does.
   */
  public List<StepRange> resolve(List<Phase> phases) {
    List<StepRange> ranges = new ArrayList<>(phases.size());
    long start = 0;
    for (Phase phase : phases) {
      long end;
      if (phase.until() != null) {
        end = stepAt(phase.until());
      } else if (phase.steps() != null) {
        end = start + phase.steps();
      } else {
        end = start;
      }
      ranges.add(new StepRange(start, end));
      start = end;
    }
    return ranges;
  }

  static long sumOfSteps(List<Phase> phases) {
    long sum = 0;
    for (Phase phase : phases) {
      if (phase.steps() != null) {
        sum += phase.steps();
      }
    }
    return sum;
  }
}
