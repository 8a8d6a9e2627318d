package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus export}: the folder it writes validates and renders with the command line pointed
 * at that folder only, not at the repository, and renders what the repository renders.
 */
class ExportCommandTest {
  @TempDir Path home;
  @TempDir Path out;
  @TempDir Path elsewhere;

  @Test
  void anExportedDemoValidatesAndRendersOutsideTheRepository() throws Exception {
    Cli repo = new Cli(home);
    Path dir = out.resolve("demo");
    Cli.Result export = repo.run("export", "recipes/demo.yaml", "--to", dir.toString());
    assertEquals(0, export.exitCode(), export.err());
    assertTrue(export.out().startsWith("exported demo to " + dir), export.out());

    Cli alone = new Cli(elsewhere, home); // a "repository" with no kubeconfigs/ at all
    Path recipe = dir.resolve("demo.yaml");
    Cli.Result validate = alone.run("validate", recipe.toString());
    assertEquals(0, validate.exitCode(), validate.err());
    assertEquals("ok: 3 phases, 3000 steps", validate.out().strip());
    Cli.Result render = alone.run("render", recipe.toString());
    assertEquals(0, render.exitCode(), render.err());

    String written;
    try (Stream<Path> files = Files.list(dir.resolve("rendered"))) {
      written = files.sorted().map(ExportCommandTest::read).collect(Collectors.joining());
    }
    assertEquals(render.out(), written);
    assertEquals(repo.run("render", "recipes/demo.yaml").out(), render.out());
    assertTrue(render.out().contains("tiny_trainer.py: |"), "the trainer is shipped");
    assertTrue(Files.isRegularFile(dir.resolve("examples/tiny/tiny_trainer.py")));
    assertTrue(Files.isRegularFile(dir.resolve("kubeconfigs/tiny/train/training-job.yaml")));
    String pins = Files.readString(dir.resolve("pins.yaml"));
    assertTrue(pins.contains("image: python:3.11-slim"), pins);
    assertTrue(pins.contains("syllabus: "), pins);
    String readme = Files.readString(dir.resolve("README.md"));
    assertTrue(readme.contains("syllabus validate demo.yaml"), readme);
  }

  @Test
  @Timeout(240)
  void anExportedDemoRunsWithAWorkerThatReadsOnlyTheExport() throws Exception {
    Path dir = out.resolve("demo");
    assertEquals(
        0, new Cli(home).run("export", "recipes/demo.yaml", "--to", dir.toString()).exitCode());

    Cli alone = new Cli(dir, home); // SYLLABUS_REPO=<the export>, as its README says
    try (DevInThread dev = DevInThread.start(alone)) {
      Cli.Result run =
          alone.run(
              "run",
              dir.resolve("demo.yaml").toString(),
              "--id",
              "e",
              "--wait",
              "--address",
              dev.address());
      assertEquals(0, run.exitCode(), run.out() + run.err());
    }
    assertTrue(
        Files.isDirectory(home.resolve("runs/e/2-hard/checkpoint-1050")),
        "the last phase trained to its end with the export's trainer");
  }

  @Test
  void aClusterRecipeExportsItsFrameworksAndTheirScripts() throws Exception {
    Path dir = out.resolve("grpo");
    Cli.Result export =
        new Cli(home).run("export", "recipes/sft-then-grpo.yaml", "--to", dir.toString());
    assertEquals(0, export.exitCode(), export.err());

    Cli.Result validate =
        new Cli(elsewhere, home).run("validate", dir.resolve("sft-then-grpo.yaml").toString());
    assertEquals(0, validate.exitCode(), validate.err());
    assertTrue(Files.isRegularFile(dir.resolve("kubeconfigs/axolotl/syllabus_axolotl.py")));
    assertTrue(Files.isRegularFile(dir.resolve("kubeconfigs/verifiers/train_grpo.py")));
    assertTrue(Files.isRegularFile(dir.resolve("rendered/1-grpo.yaml")));
    String pins = Files.readString(dir.resolve("pins.yaml"));
    assertTrue(pins.contains("image: ghcr.io/example/verifiers:0.1"), pins);
    assertTrue(pins.contains("gpus: 6"), pins);
  }

  @Test
  void aFolderThatIsNotEmptyIsRefusedUnlessForced() throws Exception {
    Files.writeString(out.resolve("notes.txt"), "mine");
    Cli cli = new Cli(home);

    Cli.Result refused = cli.run("export", "recipes/demo.yaml", "--to", out.toString());
    assertEquals(2, refused.exitCode());
    assertEquals(
        "--to: " + out + " is not empty; export into a new folder, or add --force",
        refused.err().strip());
    assertTrue(Files.notExists(out.resolve("demo.yaml")), "nothing was written");

    Cli.Result forced = cli.run("export", "recipes/demo.yaml", "--to", out.toString(), "--force");
    assertEquals(0, forced.exitCode(), forced.err());
    assertEquals("mine", Files.readString(out.resolve("notes.txt")));
  }

  @Test
  void aBadRecipeIsNotExported() {
    Cli.Result result =
        new Cli(home).run("export", "recipes/nope.yaml", "--to", out.resolve("x").toString());
    assertEquals(2, result.exitCode());
    assertEquals("recipes/nope.yaml: no such file", result.err().strip());
    assertTrue(Files.notExists(out.resolve("x")));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
