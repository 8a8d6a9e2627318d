package dev.syllabus.workflows.recipe;

import java.util.Locale;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * YAML 1.1 scalar rules, as SnakeYAML tags them: what {@code yes}, {@code 0x1F}, {@code 1_000} and
 * {@code .inf} mean, and what a recipe accepts as text, a whole number, a number or a boolean. Each
 * rule gives null for a scalar it does not accept; the caller reports the problem with its line.
 */
final class Scalars {

  private Scalars() {}

  /** A scalar as YAML 1.1 reads it: null, boolean, Integer/Long, Double or String. */
  static Object value(ScalarNode s) {
    String v = s.getValue();
    Tag tag = s.getTag();
    try {
      if (tag.equals(Tag.NULL)) {
        return null;
      }
      if (tag.equals(Tag.BOOL)) {
        return switch (v.toLowerCase(Locale.ROOT)) {
          case "true", "yes", "on" -> true;
          default -> false;
        };
      }
      if (tag.equals(Tag.INT)) {
        String digits = v.replace("_", "");
        boolean negative = digits.startsWith("-");
        if (digits.startsWith("-") || digits.startsWith("+")) {
          digits = digits.substring(1);
        }
        long value;
        if (digits.startsWith("0x")) {
          value = Long.parseLong(digits.substring(2), 16);
        } else if (digits.startsWith("0b")) {
          value = Long.parseLong(digits.substring(2), 2);
        } else if (digits.length() > 1 && digits.startsWith("0")) {
          value = Long.parseLong(digits.substring(1), 8);
        } else {
          value = Long.parseLong(digits);
        }
        value = negative ? -value : value;
        if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
          return (int) value;
        }
        return value;
      }
      if (tag.equals(Tag.FLOAT)) {
        String f = v.replace("_", "").toLowerCase(Locale.ROOT);
        if (f.endsWith(".inf")) {
          return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        if (f.equals(".nan")) {
          return Double.NaN;
        }
        return Double.parseDouble(f);
      }
    } catch (NumberFormatException e) {
      return v;
    }
    return v;
  }

  /** The text of any scalar but null: a name, an image, a quantity such as {@code 500m}. */
  static String text(ScalarNode s) {
    return s.getTag().equals(Tag.NULL) ? null : s.getValue();
  }

  /** An integer, or a text that reads as one ({@code '42'}); null for anything else. */
  static Long wholeNumber(ScalarNode s) {
    Object value = value(s);
    if (value == null && !s.getTag().equals(Tag.NULL)) {
      value = s.getValue();
    }
    if (value instanceof Integer i) {
      return i.longValue();
    }
    if (value instanceof Long l) {
      return l;
    }
    if (value instanceof String text) {
      try {
        return Long.parseLong(text.trim().replace("_", ""));
      } catch (NumberFormatException ignored) {
        // not a whole number
      }
    }
    return null;
  }

  /** An integer or a float, or a text that reads as a finite number; null for anything else. */
  static Double number(ScalarNode s) {
    Object value = value(s);
    if (value instanceof Number n) {
      return n.doubleValue();
    }
    if (value instanceof String text) {
      // YAML 1.1 reads 1e-5 as text; people mean a number.
      try {
        double d = Double.parseDouble(text.trim());
        if (Double.isFinite(d)) {
          return d;
        }
      } catch (NumberFormatException ignored) {
        // not a number
      }
    }
    return null;
  }

  /** {@code true}, {@code false} and their YAML 1.1 spellings ({@code yes}, {@code off}, …). */
  static Boolean bool(ScalarNode s) {
    return value(s) instanceof Boolean b ? b : null;
  }
}
