package dev.syllabus.workflows.recipe;

import java.util.List;
import java.util.stream.Collectors;

/** A recipe that cannot be used, with every problem found in it. */
public final class RecipeException extends Exception {
  private final List<Problem> problems;

  public RecipeException(List<Problem> problems) {
    super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public RecipeException(Problem problem) {
    this(List.of(problem));
  }

  public List<Problem> problems() {
    return problems;
  }
}
