package dev.syllabus.starter;

import dev.syllabus.worker.Paths;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the command line in this JVM and keeps what it printed. */
final class Cli {
  /** The checkout the tests run in: recipes/, kubeconfigs/ and examples/ come from here. */
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  record Result(int exitCode, String out, String err) {}

  private final Paths paths;

  Cli(Path home) {
    this(REPO, home);
  }

  Cli(Path repo, Path home) {
    this.paths = new Paths(repo, home);
  }

  Paths paths() {
    return paths;
  }

  Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Syllabus.execute(paths, args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }
}
