package dev.syllabus.workflows;

/**
 * How a run is followed.
 *
 * @param reportEveryMillis how often a running job's progress comes back to its phase workflow
 * @param maxHistoryEvents continue-as-new beyond this many history events even before the server
 *     suggests it (0: only when suggested); tests set it low to exercise continue-as-new
 */
public record RunSettings(long reportEveryMillis, long maxHistoryEvents) {

  /**
   * Continue-as-new by 10,000 events at the latest, also on a server configured not to suggest it:
   * Temporal warns past 10,240 events and fails a run at 51,200. (Servers with default settings
   * suggest it well before: at about 4,000 events or 4 MB.)
   */
  public static final RunSettings DEFAULTS = new RunSettings(2_000, 10_000);
}
