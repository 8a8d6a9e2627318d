package dev.syllabus.starter;

import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.status.RunStatus;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "status",
    description = {
      "Show a run: its state, step, t, and every phase with its steps, loss and artifacts.",
      "Exits 0 unless the run failed or was canceled."
    })
final class StatusCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RUN_ID")
  String runId;

  @Option(names = "--json", description = "print one JSON object (for scripts)")
  boolean json;

  @Option(names = "--watch", description = "keep showing the status until the run ends")
  boolean watch;

  @Option(
      names = "--every",
      paramLabel = "SECONDS",
      defaultValue = "1",
      description = "with --watch, how often to look (default ${DEFAULT-VALUE})")
  double every;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    try (Temporal temporal = parent.temporal.connect()) {
      String last = null;
      while (true) {
        RunStatus status = RunView.fetch(temporal.client(), runId);
        String shown = json ? RunView.json(status) + "\n" : RunView.table(status);
        if (!shown.equals(last)) {
          out.print(shown);
          out.flush();
          last = shown;
        }
        if (!watch || status.state().isFinal()) {
          return status.state() == dev.syllabus.workflows.status.RunState.FAILED
                  || status.state() == dev.syllabus.workflows.status.RunState.CANCELED
              ? Exit.FAILED
              : Exit.OK;
        }
        Thread.sleep((long) (every * 1000));
      }
    }
  }
}
