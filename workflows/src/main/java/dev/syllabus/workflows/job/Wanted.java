package dev.syllabus.workflows.job;

/**
 * What the signals ask of a phase, acted on by the phase workflow at its next step. A pause stays
 * in force until a resume; an advance or a skip, once asked, is not withdrawn.
 *
 * @param pause a pause is in force
 * @param advance an advance is pending: end at the latest checkpoint and hand it on
 * @param skip a skip is pending: end and hand the phase's input on
 * @param reason the reason given with the latest signal, or null
 */
public record Wanted(boolean pause, boolean advance, boolean skip, String reason) {

  public static final Wanted NOTHING = new Wanted(false, false, false, null);

  public Wanted pausing(String why) {
    return new Wanted(true, advance, skip, why);
  }

  public Wanted resuming(String why) {
    return new Wanted(false, advance, skip, why);
  }

  public Wanted advancing(String why) {
    return new Wanted(pause, true, skip, why);
  }

  public Wanted skipping(String why) {
    return new Wanted(pause, advance, true, why);
  }

  /** Whether the running job should stop: for a pause, an advance or a skip. */
  public boolean stop() {
    return pause || advance || skip;
  }

  /** The stop's reason as the job is told it: {@code pause}, or {@code skip: <reason>}. */
  public String stopReason() {
    String what = skip ? "skip" : advance ? "advance" : "pause";
    return reason == null || reason.isBlank() ? what : what + ": " + reason;
  }

  /** {@code " (<reason>)"}, or nothing without a reason: for the messages a person reads. */
  public String because() {
    return reason == null || reason.isBlank() ? "" : " (" + reason + ")";
  }
}
