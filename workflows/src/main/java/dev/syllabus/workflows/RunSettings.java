package dev.syllabus.workflows;

/**
 * How a run is followed.
 *
 * @param reportEveryMillis how often a running job's progress comes back to its phase workflow
 * @param maxHistoryEvents continue-as-new beyond this many history events even before the server
 *     suggests it (0: only when suggested); tests set it low to exercise continue-as-new
 */
public record RunSettings(long reportEveryMillis, long maxHistoryEvents) {

  public static final RunSettings DEFAULTS = new RunSettings(2_000, 0);
}
