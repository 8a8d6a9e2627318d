package dev.syllabus.workflows;

import dev.syllabus.workflows.job.JobRef;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/**
 * How the phase workflow calls its {@link PhaseActivities}: the timeouts and retries of each kind
 * of step, and the summary the Web UI shows for it.
 */
final class PhaseSteps {

  /**
   * Render, submit, stop, resume: quick calls. Their timeout is also how long a phase waits to try
   * again on another worker when the one running the call died, so it is short.
   */
  private static final ActivityOptions QUICK =
      ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(30))
          .setRetryOptions(
              RetryOptions.newBuilder()
                  .setInitialInterval(Duration.ofMillis(500))
                  .setMaximumInterval(Duration.ofSeconds(30))
                  .setMaximumAttempts(10)
                  .build())
          .build();

  private PhaseSteps() {}

  /** A quick step: render, submit, wait a moment for servers, stop, resume. */
  static PhaseActivities quick(String summary) {
    return Workflow.newActivityStub(
        PhaseActivities.class, ActivityOptions.newBuilder(QUICK).setSummary(summary).build());
  }

  /** Tearing down waits for the job to save its checkpoint and end, so it gets longer. */
  static PhaseActivities teardown(String summary) {
    return Workflow.newActivityStub(
        PhaseActivities.class,
        ActivityOptions.newBuilder(QUICK)
            .setSummary(summary)
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .build());
  }

  /**
   * Following a job returns every {@code reportEveryMillis} or so and heartbeats meanwhile, so a
   * worker that dies while following is noticed within seconds and another carries on.
   */
  static PhaseActivities follower(JobRef job, long reportEveryMillis) {
    return Workflow.newActivityStub(
        PhaseActivities.class,
        ActivityOptions.newBuilder()
            .setSummary("follow job " + job.name())
            .setStartToCloseTimeout(Duration.ofMillis(reportEveryMillis).plusMinutes(5))
            .setHeartbeatTimeout(Duration.ofSeconds(10))
            .setRetryOptions(
                RetryOptions.newBuilder()
                    .setInitialInterval(Duration.ofMillis(200))
                    .setMaximumInterval(Duration.ofSeconds(10))
                    .setMaximumAttempts(30)
                    .build())
            .build());
  }

  /**
   * Collecting digests the checkpoint, which takes long for a large model: it heartbeats instead of
   * having a short timeout, so a worker that dies meanwhile is noticed within seconds.
   */
  static PhaseActivities collector(String summary) {
    return Workflow.newActivityStub(
        PhaseActivities.class,
        ActivityOptions.newBuilder(QUICK)
            .setSummary(summary)
            .setStartToCloseTimeout(Duration.ofHours(2))
            .setHeartbeatTimeout(Duration.ofSeconds(10))
            .build());
  }
}
