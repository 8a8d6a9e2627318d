package dev.syllabus.workflows;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * How {@code syllabus retry} starts a new run from an earlier one: the earlier run's phases before
 * the retried phase as they ended, and that phase and the ones after it to run again, from the
 * triplet the earlier phases handed on. The new run carries this as {@link RunInput#carried}, so
 * the curriculum workflow starts at the retried phase as if it had continued as new there.
 *
 * @param fromIndex the index of the first phase the new run runs
 * @param start the triplet that phase starts from
 * @param carried the new run's starting state
 */
public record RetryPlan(int fromIndex, Triplet start, RunStatus carried) {

  /** A retry that cannot start; the message says why, in one line. */
  public static final class Refused extends Exception {
    public Refused(String message) {
      super(message);
    }
  }

  /**
   * The phase a retry of {@code earlier} starts at when none is named: the phase that failed or was
   * canceled. A run that completed, or has not ended, names none.
   */
  public static String defaultPhase(RunStatus earlier) throws Refused {
    requireEnded(earlier);
    if (earlier.state() == RunState.COMPLETED) {
      throw new Refused(
          "run "
              + earlier.runId()
              + " completed; name the phase to run again from with --from PHASE");
    }
    return earlier.currentPhase().name();
  }

  private static void requireEnded(RunStatus earlier) throws Refused {
    if (!earlier.state().isFinal()) {
      throw new Refused(
          "run "
              + earlier.runId()
              + " is "
              + earlier.state()
              + "; retry a run once it has failed or was canceled (`syllabus cancel "
              + earlier.runId()
              + "` ends it)");
    }
  }

  /**
   * A new run {@code newRunId} of {@code recipe} (the earlier run's, with changes only to phases
   * from {@code fromPhase} on) that starts at {@code fromPhase} from what the earlier run's phases
   * before it handed on. The earlier status's artifacts must be whole, not {@link
   * ArtifactRef#brief} (a finished phase's after continue-as-new): the caller looks those up.
   */
  public static RetryPlan of(String newRunId, Recipe recipe, RunStatus earlier, String fromPhase)
      throws Refused {
    requireEnded(earlier);
    int from = indexOf(recipe, fromPhase);
    if (from < 0) {
      throw new Refused(
          "--from: no phase '"
              + fromPhase
              + "' in recipe "
              + recipe.name()
              + " (phases: "
              + String.join(", ", recipe.phases().stream().map(Phase::name).toList())
              + ")");
    }
    Triplet start = startOf(recipe, earlier, from);
    List<StepRange> ranges = recipe.stepRanges();
    List<PhaseStatus> phases = new ArrayList<>(earlier.phases().subList(0, from));
    for (int i = from; i < recipe.phases().size(); i++) {
      Phase phase = recipe.phases().get(i);
      StepRange range = ranges.get(i);
      phases.add(
          PhaseStatus.pending(
              i, phase.name(), phase.framework(), phase.workload(), range.start(), range.end()));
    }
    long step = ranges.get(from).start();
    RunStatus carried =
        new RunStatus(
            newRunId,
            recipe.name(),
            RunState.RUNNING,
            step,
            recipe.schedule().totalSteps(),
            recipe.schedule().timeAt(step),
            from,
            phases,
            start,
            "retry of " + earlier.runId() + " from phase '" + fromPhase + "'");
    return new RetryPlan(from, start, carried);
  }

  /**
   * Why {@code changed} (the earlier recipe with {@code --set} applied) may not be retried from
   * phase {@code from}, or null: the phases before it ran in the earlier run as they were, so they,
   * their steps and the recipe's model must stay as they were.
   */
  public static String changedBefore(Recipe earlier, Recipe changed, int from) {
    if (!java.util.Objects.equals(earlier.model(), changed.model())) {
      return "--set: model is used by the phases before the retried one; a retry cannot change it";
    }
    if (!earlier.name().equals(changed.name())) {
      return "--set: a retry keeps the recipe's name";
    }
    if (earlier.phases().size() != changed.phases().size()) {
      return "--set: a retry keeps the recipe's phases";
    }
    List<StepRange> before = earlier.stepRanges();
    List<StepRange> after = changed.stepRanges();
    for (int i = 0; i < from; i++) {
      if (!earlier.phases().get(i).equals(changed.phases().get(i))
          || !before.get(i).equals(after.get(i))) {
        return "--set: phase "
            + i
            + " '"
            + earlier.phases().get(i).name()
            + "' ran in the earlier run; a retry from phase "
            + from
            + " may only change that phase and the ones after it";
      }
    }
    return null;
  }

  /**
   * The triplet phase {@code from} starts from: the earlier run's, when it stopped there; otherwise
   * the output of the nearest earlier phase that ran (a phase skipped before it started passes its
   * input through), or the recipe's model for the first phase.
   */
  private static Triplet startOf(Recipe recipe, RunStatus earlier, int from) throws Refused {
    if (earlier.state() != RunState.COMPLETED && from == earlier.phaseIndex()) {
      return whole(earlier.artifacts(), earlier.phases().get(from));
    }
    for (int j = from - 1; j >= 0; j--) {
      PhaseStatus phase = earlier.phases().get(j);
      switch (phase.state()) {
        case COMPLETED, ADVANCED -> {
          if (phase.artifacts() == null) {
            throw new Refused(handedNothing(earlier, phase));
          }
          return whole(phase.artifacts(), phase);
        }
        case SKIPPED -> {
          if (phase.artifacts() != null) {
            return whole(phase.artifacts(), phase);
          }
        }
        default -> throw new Refused(handedNothing(earlier, phase));
      }
    }
    return new Triplet(
        recipe.model() == null
            ? null
            : ArtifactRef.external(ArtifactRef.Kind.MODEL, recipe.model().base()),
        null,
        null);
  }

  private static Triplet whole(Triplet triplet, PhaseStatus from) throws Refused {
    boolean brief =
        Stream.of(triplet.model(), triplet.optimizer(), triplet.data())
            .anyMatch(ref -> ref != null && !ref.isExternal() && ref.uri() == null);
    if (brief) {
      throw new Refused(
          "the artifacts phase "
              + from.index()
              + " '"
              + from.name()
              + "' handed on are known only in brief (the run continued as new) and could not be"
              + " looked up");
    }
    return triplet;
  }

  private static String handedNothing(RunStatus earlier, PhaseStatus phase) {
    return "phase "
        + phase.index()
        + " '"
        + phase.name()
        + "' of run "
        + earlier.runId()
        + " did not hand anything on ("
        + phase.state()
        + "); retry from it or from an earlier phase";
  }

  private static int indexOf(Recipe recipe, String phase) {
    for (int i = 0; i < recipe.phases().size(); i++) {
      if (recipe.phases().get(i).name().equals(phase)) {
        return i;
      }
    }
    return -1;
  }
}
