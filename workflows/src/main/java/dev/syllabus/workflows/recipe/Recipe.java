package dev.syllabus.workflows.recipe;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A curriculum: a named schedule of phases over training time. Loaded from YAML by {@link
 * RecipeLoader} or built in code with {@link #builder(String)}; both give equal objects.
 *
 * @param name a Kubernetes-style name; runs, jobs and artifacts are named after it
 * @param description one line for people; shown in the Web UI
 * @param schedule the total number of steps, T
 * @param model the initial model handed to the first phase, or null to start from scratch
 * @param phases the phases in order; together they cover steps [0, T)
 */
public record Recipe(
    String name, String description, Schedule schedule, ModelSpec model, List<Phase> phases) {

  public Recipe {
    Objects.requireNonNull(name, "name");
    description = description == null ? "" : description;
    Objects.requireNonNull(schedule, "schedule");
    phases = List.copyOf(phases);
  }

  /** The half-open step range of every phase, in order. See {@link Schedule#resolve}. */
  public List<StepRange> stepRanges() {
    return schedule.resolve(phases);
  }

  /** The phase called {@code phaseName}, or null. */
  public Phase phase(String phaseName) {
    return phases.stream().filter(p -> p.name().equals(phaseName)).findFirst().orElse(null);
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Code-first construction; produces the same object the loader would for the same recipe. */
  public static final class Builder {
    private final String name;
    private String description = "";
    private Long totalSteps;
    private ModelSpec model;
    private final List<Phase> phases = new ArrayList<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder description(String description) {
      this.description = description;
      return this;
    }

    public Builder totalSteps(long totalSteps) {
      this.totalSteps = totalSteps;
      return this;
    }

    public Builder baseModel(String base) {
      this.model = new ModelSpec(base);
      return this;
    }

    public Builder phase(Phase phase) {
      phases.add(phase);
      return this;
    }

    public Builder phase(Phase.Builder phase) {
      return phase(phase.build());
    }

    public Recipe build() {
      long total = totalSteps != null ? totalSteps : Schedule.sumOfSteps(phases);
      return new Recipe(name, description, new Schedule(total), model, phases);
    }
  }
}
