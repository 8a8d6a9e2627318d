package dev.syllabus.workflows.recipe;

import java.util.Locale;
import java.util.Set;

/**
 * Suggestions for misspelled keys: {@code lr_rate} gets "did you mean 'lr'?", so a person fixes the
 * typo instead of reading the list of known keys.
 */
final class DidYouMean {

  private DidYouMean() {}

  /**
   * The problem for an unknown key: the likely intended key if there is one, and every known key.
   */
  static String unknownKey(String key, Set<String> allowed) {
    String known = String.join(", ", allowed.stream().sorted().toList());
    String guess = closest(key, allowed);
    if (guess != null) {
      return "unknown key; did you mean '" + guess + "'? (known keys: " + known + ")";
    }
    return "unknown key (known keys: " + known + ")";
  }

  /** The allowed key {@code key} is probably a misspelling of, or null. */
  static String closest(String key, Set<String> allowed) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : allowed) {
      int d = editDistance(key.toLowerCase(Locale.ROOT), candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return best != null && bestDistance <= Math.max(2, key.length() / 3) ? best : null;
  }

  /** The Levenshtein distance: single-character insertions, deletions and substitutions. */
  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
