package dev.syllabus.starter;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.worker.Paths;
import dev.syllabus.workflows.recipe.FrameworkCatalog;
import dev.syllabus.workflows.recipe.Problem;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.RecipeException;
import dev.syllabus.workflows.recipe.RecipeLoader;
import dev.syllabus.workflows.recipe.RecipeValidator;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Reads, parses and checks a recipe file for a command: either a recipe or every problem. */
final class RecipeFiles {

  /** A recipe ready to run, or the problems that stop it. */
  record Checked(Recipe recipe, List<Problem> problems) {
    boolean ok() {
      return problems.isEmpty();
    }
  }

  private RecipeFiles() {}

  static Checked check(Paths paths, String given, List<String> overrides) {
    Path file = paths.recipe(given);
    String text;
    try {
      if (Files.isDirectory(file)) {
        return problem(given, "is a folder, not a recipe file");
      }
      long size = Files.size(file);
      if (size > RecipeLoader.MAX_CHARS) {
        return problem(
            given,
            String.format(
                Locale.ROOT,
                "the file has %,d bytes; a recipe may have at most %,d (1 MiB)",
                size,
                RecipeLoader.MAX_CHARS));
      }
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (NoSuchFileException e) {
      return problem(given, "no such file");
    } catch (CharacterCodingException e) {
      return problem(given, "is not UTF-8 text");
    } catch (IOException e) {
      return problem(given, "cannot read: " + e.getMessage());
    }
    return checkText(given, text, overrides, kubeconfigsFor(paths, given));
  }

  /**
   * Checks recipe {@code text} (named {@code source} in problems) against the frameworks in {@code
   * kubeconfigs}, {@code overrides} applied first.
   */
  static Checked checkText(String source, String text, List<String> overrides, Path kubeconfigs) {
    FrameworkCatalog catalog;
    try {
      catalog = new Kubeconfigs(kubeconfigs).catalog();
    } catch (Kubeconfigs.Broken e) {
      return new Checked(null, List.of(new Problem(e.file(), 0, "", e.getMessage())));
    }
    try {
      RecipeLoader.Loaded loaded = RecipeLoader.parse(source, text, overrides);
      List<Problem> problems =
          new ArrayList<>(RecipeValidator.validate(loaded.recipe(), loaded.sources(), catalog));
      problems.sort(Comparator.comparing(Problem::source).thenComparingInt(Problem::line));
      return new Checked(loaded.recipe(), problems);
    } catch (RecipeException e) {
      return new Checked(null, e.problems());
    }
  }

  /**
   * The frameworks a recipe uses: the {@code kubeconfigs/} folder beside the recipe file when it
   * has one (a folder made by {@code syllabus export}), otherwise the repository's.
   */
  static Path kubeconfigsFor(Paths paths, String given) {
    Path parent = paths.recipe(given).toAbsolutePath().normalize().getParent();
    if (parent != null && Files.isDirectory(parent.resolve("kubeconfigs"))) {
      return parent.resolve("kubeconfigs");
    }
    return paths.kubeconfigs();
  }

  /** The recipe, or {@link Exit.BadInput} carrying every problem, one per line. */
  static Recipe load(Paths paths, String given, List<String> overrides) {
    Checked checked = check(paths, given, overrides);
    if (!checked.ok()) {
      throw new Exit.BadInput(
          String.join("\n", checked.problems().stream().map(Problem::toString).toList()));
    }
    return checked.recipe();
  }

  private static Checked problem(String source, String message) {
    return new Checked(null, List.of(new Problem(source, 0, "", message)));
  }
}
