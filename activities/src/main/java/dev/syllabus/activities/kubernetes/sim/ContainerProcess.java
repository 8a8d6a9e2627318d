package dev.syllabus.activities.kubernetes.sim;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * The program a simulated container runs. Every method is called on the cluster's clock thread, and
 * programs do their work there too (as short scheduled tasks), so a program never races the kubelet
 * that watches it.
 */
interface ContainerProcess {

  /** Begins running. */
  void start();

  /** SIGTERM: the program may finish its work and exit. */
  void terminate();

  /** SIGKILL: the program stops at once, writing nothing more. */
  void kill();

  /** How a program tells the kubelet that it exited: its code and, for a kill, the reason. */
  interface Exit {
    void exited(int code, String reason);
  }

  /** What a program gets from its container: log, clock, environment, files, and the kubelet. */
  record Context(
      ContainerLog log,
      ScheduledExecutorService clock,
      Map<String, String> env,
      ContainerFiles files,
      int port,
      SimulatedCluster.Settings settings,
      Exit exit,
      Runnable ready) {

    /** Runs the task once after the delay. */
    ScheduledFuture<?> after(Duration delay, Runnable task) {
      return clock.schedule(guarded(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Runs the task again and again, {@code period} apart. */
    ScheduledFuture<?> every(Duration period, Runnable task) {
      long nanos = period.toNanos();
      return clock.scheduleWithFixedDelay(guarded(task), nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** A bug in a program must show, not silently stop the program's scheduled work. */
    private static Runnable guarded(Runnable task) {
      return () -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          LoggerFactory.getLogger(ContainerProcess.class).error("a simulated program failed", e);
          throw e;
        }
      };
    }
  }

  /** The program for a behaviour. */
  static ContainerProcess of(Behaviour behaviour, Context context) {
    return switch (behaviour) {
      case TRAIN -> new SimulatedTrainer(context, -1);
      case OOM -> new SimulatedTrainer(context, 3);
      case SERVE -> new SimulatedServer(context);
      case FAIL ->
          new Crash(
              context, 2, "RuntimeError: CUDA error: an illegal memory access was encountered");
      case CRASH_LOOP ->
          new Crash(context, 0, "ValueError: invalid config: 'learning_rate' must be a number");
      case HANG -> new Hang(context);
    };
  }

  /** Starts, prints a Python traceback after a few step times, exits 1. */
  final class Crash implements ContainerProcess {
    private final Context context;
    private final int stepsBeforeCrash;
    private final String error;
    private ScheduledFuture<?> crash;

    Crash(Context context, int stepsBeforeCrash, String error) {
      this.context = context;
      this.stepsBeforeCrash = stepsBeforeCrash;
      this.error = error;
    }

    @Override
    public void start() {
      context.ready().run();
      context
          .log()
          .println(
              "Loading configuration from "
                  + context.env().getOrDefault("SYLLABUS_CONFIG", "config.yaml"));
      crash =
          context.after(
              context.settings().trainerSpeed().multipliedBy(stepsBeforeCrash + 1L),
              () -> {
                context.log().println("Traceback (most recent call last):");
                context.log().println("  File \"/app/train.py\", line 212, in <module>");
                context.log().println("    main()");
                context.log().println("  File \"/app/train.py\", line 198, in main");
                context.log().println("    trainer.train()");
                context.log().println(error);
                context.exit().exited(1, null);
              });
    }

    @Override
    public void terminate() {
      crash.cancel(false);
      context.exit().exited(143, null);
    }

    @Override
    public void kill() {
      crash.cancel(false);
    }
  }

  /** Runs until killed; SIGTERM only makes it say so. */
  final class Hang implements ContainerProcess {
    private final Context context;

    Hang(Context context) {
      this.context = context;
    }

    @Override
    public void start() {
      context.ready().run();
      context.log().println("waiting for the rendezvous with the other workers...");
    }

    @Override
    public void terminate() {
      context.log().println("received SIGTERM, still waiting for the rendezvous...");
    }

    @Override
    public void kill() {}
  }
}
