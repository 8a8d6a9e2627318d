package dev.syllabus.starter;

import dev.syllabus.worker.Paths;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** Runs the command line in this JVM and keeps what it printed. */
final class Cli {
  /** The checkout the tests run in: recipes/, kubeconfigs/ and examples/ come from here. */
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  record Result(int exitCode, String out, String err) {}

  private final Paths paths;

  /** The environment the commands see; null for this process's own. */
  private final Map<String, String> environment;

  Cli(Path home) {
    this(REPO, home);
  }

  Cli(Path repo, Path home) {
    this(new Paths(repo, home), null);
  }

  private Cli(Paths paths, Map<String, String> environment) {
    this.paths = paths;
    this.environment = environment;
  }

  /** The same command line, seeing {@code environment} as its whole environment. */
  Cli withEnvironment(Map<String, String> environment) {
    return new Cli(paths, Map.copyOf(environment));
  }

  Paths paths() {
    return paths;
  }

  Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        environment == null
            ? Syllabus.execute(paths, args, new PrintWriter(out, true), new PrintWriter(err, true))
            : Syllabus.execute(
                paths, environment, args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }
}
