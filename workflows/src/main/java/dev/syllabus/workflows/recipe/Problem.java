package dev.syllabus.workflows.recipe;

/**
 * One thing wrong with a recipe, located so a person can fix it.
 *
 * @param source the file name, or {@code --set a.b=c} for a value given on the command line
 * @param line the 1-based line in {@code source}, or 0 when unknown
 * @param path the field, e.g. {@code phases[1].until}
 * @param message what is wrong, e.g. {@code must be greater than the previous phase's 0.5}
 */
public record Problem(String source, int line, String path, String message) {

  /** {@code FILE:LINE: path: message}, the one-line form every command prints. */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(source);
    if (line > 0) {
      out.append(':').append(line);
    }
    out.append(": ");
    if (path != null && !path.isEmpty()) {
      out.append(path).append(": ");
    }
    return out.append(message).toString();
  }
}
