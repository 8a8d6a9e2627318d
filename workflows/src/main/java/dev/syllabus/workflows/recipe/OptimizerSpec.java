package dev.syllabus.workflows.recipe;

/**
 * The optimizer of a phase.
 *
 * @param name the framework's optimizer name (e.g. {@code adamw_torch}), or null for its default
 * @param lr the learning rate, or null for the framework's default
 * @param state whether the phase starts from the previous phase's optimizer state
 */
public record OptimizerSpec(String name, Double lr, OptimizerState state) {

  public static final OptimizerSpec DEFAULT = new OptimizerSpec(null, null, OptimizerState.RESET);

  public OptimizerSpec {
    state = state == null ? OptimizerState.RESET : state;
  }

  /** Carry the previous phase's optimizer state, or start with a fresh one. */
  public enum OptimizerState {
    CARRY,
    RESET
  }
}
