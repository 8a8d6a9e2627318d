package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command answers {@code --help} with its usage, as {@code syllabus --help} does, which lists
 * the commands users run (the benchmark is a jar of its own).
 */
class HelpTest {
  @TempDir Path home;

  @TestFactory
  List<DynamicTest> everyCommandExplainsItselfOnHelp() {
    return List.of(
            "demo",
            "dev",
            "worker",
            "doctor",
            "validate",
            "render",
            "export",
            "recipes",
            "frameworks",
            "run",
            "retry",
            "status",
            "list",
            "logs",
            "compare",
            "pause",
            "resume",
            "advance",
            "skip",
            "cancel")
        .stream()
        .map(
            command ->
                DynamicTest.dynamicTest(
                    command,
                    () -> {
                      Cli.Result help = new Cli(home).run(command, "--help");
                      assertEquals(0, help.exitCode(), help.err());
                      assertTrue(help.out().startsWith("Usage: syllabus " + command), help.out());
                      assertTrue(help.out().contains("--help"), help.out());
                    }))
        .toList();
  }

  @Test
  void theListOfCommandsHasOnlyWhatUsersRun() {
    Cli.Result help = new Cli(home).run("--help");

    assertEquals(0, help.exitCode(), help.err());
    assertTrue(help.out().contains("  worker "), help.out());
    assertFalse(help.out().contains("bench"), "bench is a jar of its own: " + help.out());
  }
}
