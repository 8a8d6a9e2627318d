package dev.syllabus.workflows.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** Suggestions for misspelled recipe keys. */
class DidYouMeanTest {

  private static final Set<String> OPTIMIZER_KEYS = Set.of("name", "lr", "state");

  @Test
  void aDroppedLetterSuggestsTheKey() {
    assertEquals("optimizer", DidYouMean.closest("optimzer", Set.of("optimizer", "resources")));
  }

  @Test
  void caseDoesNotCountAsAMistake() {
    assertEquals("state", DidYouMean.closest("STATE", OPTIMIZER_KEYS));
  }

  @Test
  void aKeyFarFromEveryKnownKeyGetsNoSuggestion() {
    assertNull(DidYouMean.closest("momentum", OPTIMIZER_KEYS));
  }

  @Test
  void theMessageNamesTheSuggestionAndEveryKnownKeyInOrder() {
    assertEquals(
        "unknown key; did you mean 'lr'? (known keys: lr, name, state)",
        DidYouMean.unknownKey("lrr", OPTIMIZER_KEYS));
  }

  @Test
  void withoutASuggestionTheMessageListsTheKnownKeys() {
    assertEquals(
        "unknown key (known keys: lr, name, state)",
        DidYouMean.unknownKey("momentum", OPTIMIZER_KEYS));
  }

  @Test
  void editDistanceCountsInsertionsDeletionsAndSubstitutions() {
    assertEquals(0, DidYouMean.editDistance("lr", "lr"));
    assertEquals(1, DidYouMean.editDistance("optimzer", "optimizer"));
    assertEquals(1, DidYouMean.editDistance("stat", "state"));
    assertEquals(3, DidYouMean.editDistance("kitten", "sitting"));
  }
}
