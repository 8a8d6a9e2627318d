package dev.syllabus.starter;

import dev.syllabus.worker.DevEnvironment;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.CurriculumWorkflow;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "dev",
    description = {
      "Serve a local Temporal and a worker with the local backend until Ctrl-C.",
      "The Temporal is the Java SDK's test server, in this process and in memory:",
      "runs do not survive a restart of `dev`, and it has no Web UI."
    })
final class DevCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--port",
      defaultValue = "7233",
      description = "the Temporal frontend port (default ${DEFAULT-VALUE})")
  int port;

  @Override
  public Integer call() throws InterruptedException {
    Logging.showWorkerActivity();
    PrintWriter out = spec.commandLine().getOut();
    DevEnvironment dev;
    try {
      dev = DevEnvironment.start(port, parent.temporal.namespace, parent.paths);
    } catch (IllegalStateException e) {
      throw new Exit.Failed(e.getMessage());
    }
    Temporal temporal = dev.temporal();
    Runnable stop = Logging.once(dev::close);
    Thread onCtrlC = new Thread(stop, "syllabus-dev-shutdown");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    out.println(
        "syllabus dev: Temporal (embedded test server) at "
            + dev.address()
            + ", namespace "
            + temporal.namespace());
    out.println(
        "  worker: local backend, task queue "
            + CurriculumWorkflow.TASK_QUEUE
            + ", artifacts in "
            + parent.paths.runs());
    out.println(
        "  no Web UI with the embedded server; run `syllabus status ID --watch` to follow a run");
    out.println(
        "  try: syllabus run recipes/demo.yaml --id x     (Ctrl-C here stops Temporal and the worker)");
    out.flush();
    Logging.serveUntilInterrupted(stop, onCtrlC);
    return Exit.OK;
  }
}
