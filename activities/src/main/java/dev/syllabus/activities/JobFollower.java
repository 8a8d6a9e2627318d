package dev.syllabus.activities;

import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.util.Objects;

/**
 * The follow loop every backend shares: look at the job, heartbeat what it saw, wait for a change,
 * and return to the workflow when something it acts on happened (the job ended, changed state, or
 * waits for something new), when about {@code reportEveryMillis} have passed with new progress, or
 * at the latest after ten of them, so that a phase still shows it is alive.
 */
public final class JobFollower {

  /** One backend's view of one job while it is followed. */
  public interface Watch {
    /** The job now, given the previous look. Reads only: never changes the job. */
    JobSnapshot look(JobSnapshot before);

    /** Waits up to {@code millis} for something that may change what {@link #look} sees. */
    void awaitChange(long millis) throws InterruptedException;
  }

  /** How long a job that shows no progress is followed before the workflow hears from it. */
  static final long QUIET_MILLIS = 60_000;

  /** The longest single wait, so that the heartbeat goes out every few seconds. */
  static final long MAX_WAIT_MILLIS = 5_000;

  /**
   * Counter: the heartbeats the follow activities sent, in the activity's metrics scope (so with
   * its activity type, task queue and namespace). See docs/monitoring.md ("Metrics").
   */
  public static final String HEARTBEATS = "syllabus_follow_heartbeats";

  private JobFollower() {}

  /**
   * Follows from {@code last}, or from the last heartbeat when this is a retried attempt of the
   * activity, so that the output read before is not read again.
   */
  public static JobSnapshot follow(JobSnapshot last, long reportEveryMillis, Watch watch) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    JobSnapshot from = context.getHeartbeatDetails(JobSnapshot.class).orElse(last);
    long now = System.currentTimeMillis();
    long reportAt = now + reportEveryMillis;
    long latest = now + Math.max(10 * reportEveryMillis, QUIET_MILLIS);
    long capacityCheck = now + 10 * reportEveryMillis;
    JobSnapshot seen = from;
    while (true) {
      seen = watch.look(seen);
      if (changed(from, seen)) {
        return seen;
      }
      now = System.currentTimeMillis();
      boolean progressed =
          seen.progress().step() != from.progress().step()
              || !Objects.equals(
                  seen.progress().checkpointStep(), from.progress().checkpointStep());
      if ((now >= reportAt && progressed) || now >= latest) {
        return seen;
      }
      if (seen.waitingForCapacity() && now >= capacityCheck) {
        return seen; // the workflow checks the capacity deadline
      }
      context.heartbeat(seen);
      context.getMetricsScope().counter(HEARTBEATS).inc(1);
      long wait = progressed ? reportAt - now : latest - now;
      try {
        watch.awaitChange(Math.max(1, Math.min(wait, MAX_WAIT_MILLIS)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while following a job", e);
      }
    }
  }

  /**
   * Whether the workflow must hear of this at once: the job ended, stands somewhere else, or waits
   * (pending or preempted) for something else.
   */
  static boolean changed(JobSnapshot from, JobSnapshot seen) {
    return seen.state().hasEnded()
        || seen.state() != from.state()
        || seen.waitingForCapacity() != from.waitingForCapacity()
        || ((seen.state() == JobState.PENDING || seen.state() == JobState.PREEMPTED)
            && !Objects.equals(seen.message(), from.message()));
  }
}
