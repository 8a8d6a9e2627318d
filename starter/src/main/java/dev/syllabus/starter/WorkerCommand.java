package dev.syllabus.starter;

import dev.syllabus.worker.SyllabusWorker;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "worker",
    description = {
      "Run a worker against --address until Ctrl-C: it runs the workflows and the phases' jobs.",
      "Backends: local (jobs as processes on this machine). The kubernetes backend is not built yet."
    })
final class WorkerCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The backends a worker can run phases with. */
  enum Backend {
    local
  }

  @Option(
      names = "--backend",
      defaultValue = "local",
      description = "where jobs run: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  Backend backend;

  @Option(
      names = "--task-queue",
      defaultValue = CurriculumWorkflow.TASK_QUEUE,
      description = "the task queue to poll (default ${DEFAULT-VALUE})")
  String taskQueue;

  @Override
  public Integer call() throws InterruptedException {
    Logging.showWorkerActivity();
    Temporal temporal = parent.temporal.connect();
    RunCommand.ensureSearchAttributes(temporal);
    SyllabusWorker worker =
        SyllabusWorker.start(temporal, SyllabusWorker.localBackend(parent.paths), taskQueue);
    Runnable stop =
        Logging.once(
            () -> {
              worker.close();
              temporal.close();
            });
    Thread onCtrlC = new Thread(stop, "syllabus-worker-shutdown");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    spec.commandLine()
        .getOut()
        .println(
            "syllabus worker: "
                + backend
                + " backend, polling "
                + taskQueue
                + " at "
                + temporal.address()
                + " (namespace "
                + temporal.namespace()
                + "); artifacts in "
                + parent.paths.runs());
    spec.commandLine().getOut().flush();
    Logging.serveUntilInterrupted(stop, onCtrlC);
    return Exit.OK;
  }
}
