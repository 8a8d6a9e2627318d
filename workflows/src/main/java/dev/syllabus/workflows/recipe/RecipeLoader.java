package dev.syllabus.workflows.recipe;

import java.util.List;
import java.util.Locale;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads a recipe from YAML text into a {@link Recipe}, reporting every structural problem (unknown
 * keys, wrong types, missing fields, malformed YAML) with its file and line. It does no I/O: the
 * caller reads the file. Semantic checks (schedule coverage, frameworks, names) are {@link
 * RecipeValidator}'s.
 *
 * <p>It binds the YAML node tree by hand rather than through a data-binding library, because the
 * nodes carry line numbers and the problems must name them. The steps: {@link SafeYaml} composes
 * the tree within limits, {@link Overrides} applies {@code --set}, {@link RecipeBinder} binds the
 * records.
 */
public final class RecipeLoader {

  /** Recipes are small; anything larger is a mistake or an attack. */
  public static final int MAX_CHARS = 1 << 20;

  /** A recipe and where each of its fields came from. */
  public record Loaded(Recipe recipe, SourceMap sources) {}

  private RecipeLoader() {}

  public static Loaded parse(String source, String text) throws RecipeException {
    return parse(source, text, List.of());
  }

  /**
   * Parses {@code text}, first applying {@code overrides} of the form {@code path=value} (e.g.
   * {@code phases[1].optimizer.lr=1.0e-5} or {@code phases[grpo].resources.train.gpu=4}).
   */
  public static Loaded parse(String source, String text, List<String> overrides)
      throws RecipeException {
    if (text.length() > MAX_CHARS) {
      throw new RecipeException(
          new Problem(
              source,
              0,
              "",
              String.format(
                  Locale.ROOT,
                  "the recipe has %,d characters; it may have at most %,d (1 MiB)",
                  text.length(),
                  MAX_CHARS)));
    }
    Node root = SafeYaml.compose(source, text);
    if (root == null) {
      throw new RecipeException(
          new Problem(source, 1, "", "the file is empty; a recipe needs at least name and phases"));
    }
    if (!overrides.isEmpty()) {
      root = SafeYaml.unshare(source, root);
    }
    Overrides applied = Overrides.apply(root, overrides);
    if (!applied.problems().isEmpty()) {
      throw new RecipeException(applied.problems());
    }
    RecipeBinder binder = new RecipeBinder(source, applied.setBy());
    Recipe recipe;
    try {
      recipe = binder.recipe(root);
    } catch (SafeYaml.TooLarge e) {
      recipe = null;
    }
    if (!binder.problems().isEmpty() || recipe == null) {
      throw new RecipeException(binder.problems());
    }
    return new Loaded(recipe, binder.sources());
  }
}
