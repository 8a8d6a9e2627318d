package dev.syllabus.starter;

import dev.syllabus.worker.Paths;
import dev.syllabus.worker.SyllabusWorker;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The {@code syllabus} command line. */
@Command(
    name = "syllabus",
    mixinStandardHelpOptions = true,
    versionProvider = Syllabus.Version.class,
    description = {
      "Runs ML training curricula as durable Temporal workflows.",
      "",
      "On a laptop: `syllabus demo`, or `syllabus dev` in one terminal and",
      "`syllabus run recipes/demo.yaml --id x` in another."
    },
    subcommands = {
      DemoCommand.class,
      DevCommand.class,
      WorkerCommand.class,
      DoctorCommand.class,
      ValidateCommand.class,
      RenderCommand.class,
      ExportCommand.class,
      RecipesCommand.class,
      FrameworksCommand.class,
      RunCommand.class,
      RetryCommand.class,
      StatusCommand.class,
      ListCommand.class,
      LogsCommand.class,
      CompareCommand.class,
      ControlCommand.Pause.class,
      ControlCommand.Resume.class,
      ControlCommand.Advance.class,
      ControlCommand.Skip.class,
      CancelCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 success, 1 the run or command failed, 2 bad input (nothing was started).",
      "Files: recipes and kubeconfigs/ are read from the repository (SYLLABUS_REPO),",
      "or from a kubeconfigs/ folder beside the recipe (`syllabus export` makes one);",
      "runs and artifacts live under SYLLABUS_HOME (default ~/.syllabus)."
    })
public final class Syllabus implements Runnable {

  @Mixin TemporalOptions temporal;

  final Paths paths;

  Syllabus(Paths paths) {
    this(paths, System.getenv());
  }

  /** With {@code environment} in place of this process's, for the TEMPORAL_* variables. */
  Syllabus(Paths paths, Map<String, String> environment) {
    this.paths = paths;
    this.temporal = new TemporalOptions(environment);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        new CommandLine(this), "name a command; see `syllabus --help`");
  }

  public static void main(String[] args) {
    runThenExit(new CommandLine(new Syllabus(Paths.fromEnvironment())), args);
  }

  /** Runs {@code cli} on this process's arguments and output, then exits with its exit code. */
  public static void runThenExit(CommandLine cli, String[] args) {
    System.exit(
        execute(cli, args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs one command line; returns its exit code. */
  public static int execute(Paths paths, String[] args, PrintWriter out, PrintWriter err) {
    return execute(new CommandLine(new Syllabus(paths)), args, out, err);
  }

  /** Runs one command line as if {@code environment} were this process's environment. */
  static int execute(
      Paths paths,
      Map<String, String> environment,
      String[] args,
      PrintWriter out,
      PrintWriter err) {
    return execute(new CommandLine(new Syllabus(paths, environment)), args, out, err);
  }

  /**
   * Runs {@code cli} as every syllabus command runs (also {@code syllabus bench}, a jar of its
   * own): errors as one line, and the exit codes of {@link Exit}. Returns its exit code.
   */
  public static int execute(CommandLine cli, String[] args, PrintWriter out, PrintWriter err) {
    addHelpOptions(cli);
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof Exit.BadInput bad) {
            commandLine.getErr().println(bad.getMessage());
            return Exit.BAD_INPUT;
          }
          if (e instanceof SyllabusWorker.ExtensionFailed failed) {
            // An extension on the worker's classpath refused its configuration: bad input, and
            // the worker did not start.
            commandLine.getErr().println(failed.getMessage());
            return Exit.BAD_INPUT;
          }
          Optional<String> refused = refusal(commandLine, e);
          if (refused.isPresent()) {
            // Temporal answered, and said no to these credentials: a setting to fix.
            commandLine.getErr().println(refused.get());
            return Exit.BAD_INPUT;
          }
          if (e instanceof Exit.Failed failed) {
            commandLine.getErr().println("syllabus: " + failed.getMessage());
            return Exit.FAILED;
          }
          commandLine.getErr().println("syllabus: " + e);
          e.printStackTrace(commandLine.getErr());
          return Exit.FAILED;
        });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /**
   * What Temporal refused, when {@code e} is its answer to the credentials of the command's {@link
   * TemporalOptions} (an API key or certificate it does not accept).
   */
  private static Optional<String> refusal(CommandLine commandLine, Exception e) {
    for (CommandLine.Model.CommandSpec mixin :
        commandLine.getCommandSpec().root().mixins().values()) {
      if (mixin.userObject() instanceof TemporalOptions options) {
        return options.refusal(e);
      }
    }
    return Optional.empty();
  }

  /** {@code -h}/{@code --help} on every command, as on {@code syllabus} itself. */
  private static void addHelpOptions(CommandLine cli) {
    for (CommandLine sub : cli.getSubcommands().values()) {
      if (sub.getCommandSpec().findOption("--help") == null) {
        sub.getCommandSpec()
            .addOption(
                CommandLine.Model.OptionSpec.builder("-h", "--help")
                    .usageHelp(true)
                    .description("Show this help message and exit.")
                    .build());
      }
    }
  }

  /**
   * The version from the jar's manifest or the pom.properties Maven puts in it, or "dev" when run
   * from classes.
   */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"syllabus " + number()};
    }

    static String number() {
      String v = Syllabus.class.getPackage().getImplementationVersion();
      if (v != null) {
        return v;
      }
      try (java.io.InputStream in =
          Syllabus.class.getResourceAsStream(
              "/META-INF/maven/dev.syllabus/syllabus-starter/pom.properties")) {
        if (in != null) {
          java.util.Properties pom = new java.util.Properties();
          pom.load(in);
          return pom.getProperty("version", "dev");
        }
      } catch (java.io.IOException e) {
        return "dev";
      }
      return "dev";
    }
  }
}
