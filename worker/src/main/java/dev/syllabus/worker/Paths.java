package dev.syllabus.worker;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where Syllabus finds its files: the repository (for {@code kubeconfigs/}, {@code recipes/} and
 * {@code examples/}) and {@code SYLLABUS_HOME} (runs and their artifacts; default {@code
 * ~/.syllabus}).
 *
 * @param repo the checkout the {@code syllabus} launcher runs from ({@code -Dsyllabus.repo}, env
 *     {@code SYLLABUS_REPO}, or the current folder)
 * @param home where runs are stored
 */
public record Paths(Path repo, Path home) {

  public static Paths fromEnvironment() {
    String repo = System.getProperty("syllabus.repo", System.getenv("SYLLABUS_REPO"));
    String home = System.getenv("SYLLABUS_HOME");
    return new Paths(
        Path.of(repo != null && !repo.isBlank() ? repo : ".").toAbsolutePath().normalize(),
        (home != null && !home.isBlank()
                ? Path.of(home)
                : Path.of(System.getProperty("user.home"), ".syllabus"))
            .toAbsolutePath()
            .normalize());
  }

  public Path kubeconfigs() {
    return repo.resolve("kubeconfigs");
  }

  /** The artifact store of the {@code local} backend: {@code $SYLLABUS_HOME/runs}. */
  public Path runs() {
    return home.resolve("runs");
  }

  /** A recipe path as given, or relative to the repository when it is not found as given. */
  public Path recipe(String given) {
    Path path = Path.of(given);
    if (!Files.exists(path) && !path.isAbsolute() && Files.exists(repo.resolve(given))) {
      return repo.resolve(given);
    }
    return path;
  }
}
