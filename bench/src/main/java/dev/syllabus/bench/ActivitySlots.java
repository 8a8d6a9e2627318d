package dev.syllabus.bench;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the bench's worker does with its activity slots: how many activities run at once (the peak),
 * and how long each follow activity waited between being scheduled and starting. When every slot is
 * taken, the next follow waits in the task queue: its wait grows, and the phase's progress reaches
 * its run late.
 */
final class ActivitySlots extends WorkerInterceptorBase {
  /** The activity that follows a running job: one per running phase, for as long as it runs. */
  private static final String FOLLOW = "FollowJob";

  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  private final List<Double> followWaitsMs = new ArrayList<>();

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new ActivityInboundCallsInterceptorBase(next) {
      private ActivityExecutionContext context;

      @Override
      public void init(ActivityExecutionContext context) {
        this.context = context;
        super.init(context);
      }

      @Override
      public ActivityOutput execute(ActivityInput input) {
        peak.accumulateAndGet(running.incrementAndGet(), Math::max);
        if (FOLLOW.equals(context.getInfo().getActivityType())) {
          long waited =
              System.currentTimeMillis() - context.getInfo().getCurrentAttemptScheduledTimestamp();
          synchronized (followWaitsMs) {
            followWaitsMs.add((double) Math.max(0, waited));
          }
        }
        try {
          return super.execute(input);
        } finally {
          running.decrementAndGet();
        }
      }
    };
  }

  /** Starts a new window: the peak from now, and the follow waits from now. */
  void reset() {
    peak.set(running.get());
    synchronized (followWaitsMs) {
      followWaitsMs.clear();
    }
  }

  /** The most activities that ran at once since {@link #reset}. */
  int peak() {
    return peak.get();
  }

  /** The follow activities' waits for a slot since {@link #reset}, sorted, in milliseconds. */
  List<Double> followWaitsMs() {
    synchronized (followWaitsMs) {
      return followWaitsMs.stream().sorted().toList();
    }
  }
}
