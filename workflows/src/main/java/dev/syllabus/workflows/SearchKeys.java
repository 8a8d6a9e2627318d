package dev.syllabus.workflows;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.common.SearchAttributeKey;
import java.util.List;

/**
 * The typed search attributes a run shows in the Web UI, e.g. {@code SyllabusState = "PAUSED"}.
 * They must be registered on the Temporal namespace before runs start ({@code syllabus dev} does
 * it).
 */
public final class SearchKeys {
  public static final SearchAttributeKey<String> RECIPE =
      SearchAttributeKey.forKeyword("SyllabusRecipe");
  public static final SearchAttributeKey<String> PHASE =
      SearchAttributeKey.forKeyword("SyllabusPhase");
  public static final SearchAttributeKey<String> STATE =
      SearchAttributeKey.forKeyword("SyllabusState");
  public static final SearchAttributeKey<Long> STEP = SearchAttributeKey.forLong("SyllabusStep");
  public static final SearchAttributeKey<Double> PROGRESS =
      SearchAttributeKey.forDouble("SyllabusProgress");

  /** Name and type of each, for registering them. */
  public record Definition(String name, IndexedValueType type) {}

  public static final List<Definition> ALL =
      List.of(
          new Definition(RECIPE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD),
          new Definition(PHASE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD),
          new Definition(STATE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD),
          new Definition(STEP.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT),
          new Definition(PROGRESS.getName(), IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE));

  private SearchKeys() {}
}
