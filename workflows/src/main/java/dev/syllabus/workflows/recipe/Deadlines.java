package dev.syllabus.workflows.recipe;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a phase may wait before its job trains. Each is in milliseconds; 0 means no limit.
 *
 * @param readyMillis until the phase's servers (vLLM, rewards) are ready
 * @param capacityMillis while the cluster has no room for the job (e.g. not enough GPUs)
 */
public record Deadlines(long readyMillis, long capacityMillis) {

  /** Servers get half an hour to load their models; waiting for GPUs has no limit. */
  public static final Deadlines DEFAULTS = new Deadlines(Duration.ofMinutes(30).toMillis(), 0);

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /**
   * {@code 90s}, {@code 15m}, {@code 2h}, {@code 1h30m}, {@code 0} (no limit); null if unreadable.
   */
  public static Long parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("0")) {
      return 0L;
    }
    Matcher m = DURATION.matcher(t);
    long total = 0;
    int at = 0;
    while (m.find() && m.start() == at) {
      long n = Long.parseLong(m.group(1));
      total +=
          switch (m.group(2)) {
            case "ms" -> n;
            case "s" -> n * 1_000;
            case "m" -> n * 60_000;
            case "h" -> n * 3_600_000;
            default -> n * 86_400_000;
          };
      at = m.end();
    }
    return at == t.length() && at > 0 ? total : null;
  }

  /** A duration as people write it: {@code 30m}, {@code 2h}, {@code none}. */
  public static String format(long millis) {
    if (millis == 0) {
      return "none";
    }
    if (millis % 3_600_000 == 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    return millis % 1_000 == 0 ? millis / 1_000 + "s" : millis + "ms";
  }
}
