package dev.syllabus.workflows.recipe;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The half-open range of global steps [start, end) that one phase owns.
 *
 * @param start the first step of the phase
 * @param end one past the last step; the next phase starts here
 */
public record StepRange(long start, long end) {

  public long length() {
    return end - start;
  }

  @JsonIgnore
  public boolean isEmpty() {
    return end <= start;
  }

  @Override
  public String toString() {
    return "[" + start + ", " + end + ")";
  }
}
