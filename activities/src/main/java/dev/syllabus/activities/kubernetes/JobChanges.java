package dev.syllabus.activities.kubernetes;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One version per Job that changes whenever something of that Job changes (the Job, its pods, its
 * Kueue Workload, a line of its log), so that the activity following a Job wakes for its own Job
 * only. With one version for everything, each of 500 running phases' log lines woke all 500
 * followers, and each looked at every pod: the worker's CPU went to following, not to the phases.
 */
final class JobChanges {
  private final Map<String, Signal> jobs = new ConcurrentHashMap<>();

  /** The Job's version now: pass it to {@link #await} to wait for the next change. */
  long version(String job) {
    return signal(job).version();
  }

  /** Something of the Job changed: wakes those waiting on it. */
  void wake(String job) {
    signal(job).bump();
  }

  /** Waits until the Job's version is no longer {@code seen}, or {@code millis} passed. */
  void await(String job, long seen, long millis) throws InterruptedException {
    signal(job).await(seen, millis);
  }

  /**
   * The Job is gone: forgets its version (a follower still waiting on it wakes by its time limit).
   */
  void forget(String job) {
    Signal gone = jobs.remove(job);
    if (gone != null) {
      gone.bump();
    }
  }

  /** How many Jobs have a version: those seen and not yet deleted. */
  int size() {
    return jobs.size();
  }

  private Signal signal(String job) {
    return jobs.computeIfAbsent(job, j -> new Signal());
  }

  /** A version and the monitor its waiters wait on. */
  private static final class Signal {
    private long version;

    synchronized long version() {
      return version;
    }

    synchronized void bump() {
      version++;
      notifyAll();
    }

    synchronized void await(long seen, long millis) throws InterruptedException {
      long deadline = System.currentTimeMillis() + millis;
      while (version == seen) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          return;
        }
        wait(left);
      }
    }
  }
}
