package dev.syllabus.activities;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs long work inside an activity while heartbeating every few seconds, so that the activity can
 * have a short heartbeat timeout (a dead worker is noticed at once) and a long start-to-close one.
 */
public final class Heartbeating {
  private static final long EVERY_MILLIS = 2_000;

  private Heartbeating() {}

  /** {@code work}'s result; its exception, if it threw one. */
  public static <T> T call(Supplier<T> work) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    CompletableFuture<T> result = CompletableFuture.supplyAsync(work);
    while (true) {
      try {
        return result.get(EVERY_MILLIS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        context.heartbeat(null);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }
}
