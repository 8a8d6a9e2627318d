package dev.syllabus.activities.kubernetes.sim;

import java.util.concurrent.ScheduledFuture;

/**
 * A server as a Deployment runs it (a vLLM or a rewards server behind uvicorn): it logs its
 * start-up, becomes ready after the cluster's server start delay, and serves until SIGTERM.
 */
final class SimulatedServer implements ContainerProcess {
  private final Context context;
  private ScheduledFuture<?> startup;

  SimulatedServer(Context context) {
    this.context = context;
  }

  @Override
  public void start() {
    context.log().println("INFO:     Started server process [1]");
    context.log().println("INFO:     Waiting for application startup.");
    startup =
        context.after(
            context.settings().serverStartDelay(),
            () -> {
              context.log().println("INFO:     Application startup complete.");
              context
                  .log()
                  .println(
                      "INFO:     Uvicorn running on http://0.0.0.0:"
                          + context.port()
                          + " (Press CTRL+C to quit)");
              context.ready().run();
            });
  }

  @Override
  public void terminate() {
    startup.cancel(false);
    context.log().println("INFO:     Shutting down");
    context.log().println("INFO:     Waiting for application shutdown.");
    context.log().println("INFO:     Application shutdown complete.");
    context.log().println("INFO:     Finished server process [1]");
    context.exit().exited(0, null);
  }

  @Override
  public void kill() {
    startup.cancel(false);
  }
}
