package dev.syllabus.activities.kubernetes.sim;

/**
 * What the main container of a simulated pod does once it runs. Job pods {@link #TRAIN} and other
 * pods {@link #SERVE} unless {@link SimulatedCluster#behaviour} says otherwise.
 */
public enum Behaviour {
  /**
   * A Hugging Face style trainer following the job contract: resumes from the latest checkpoint in
   * {@code SYLLABUS_OUTPUT_DIR}, trains {@code SYLLABUS_STEP_END - SYLLABUS_STEP_START} steps, logs
   * loss dicts and tqdm bars, saves checkpoints, and on SIGTERM saves one and exits 0.
   */
  TRAIN,
  /**
   * A server: logs its start-up, is ready after the cluster's server start delay, runs until
   * stopped.
   */
  SERVE,
  /** Starts, prints a Python traceback and exits 1 (terminated reason {@code Error}). */
  FAIL,
  /**
   * Trains a few steps, then the kernel kills it: exit 137, terminated reason {@code OOMKilled}.
   */
  OOM,
  /**
   * Exits 1 right after start, every time: under restart policy {@code Always} or {@code OnFailure}
   * the pod shows {@code CrashLoopBackOff} with a growing restart count.
   */
  CRASH_LOOP,
  /** Runs and ignores SIGTERM; only the end of the grace period (SIGKILL, exit 137) stops it. */
  HANG
}
