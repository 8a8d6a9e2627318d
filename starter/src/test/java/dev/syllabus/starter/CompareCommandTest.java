package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus compare}: records read back into the table, the same as JSON, and one line with
 * exit code 2 for each kind of bad input. The records in {@code src/test/resources/records/} are
 * two runs of the demo as the worker wrote them (run ids and the store's path renamed), the second
 * with {@code lr: 0.003} in its medium phase.
 */
@Timeout(30)
class CompareCommandTest {
  static final String A = "demo-20261207-153213-4f2a";
  static final String B = "demo-20261207-153312-9b1c";

  @TempDir Path home;

  /** Copies the fixtures' records into {@code home}'s store, as the worker would have left them. */
  static void storeTheFixtures(Path home) throws Exception {
    for (String run : List.of(A, B)) {
      Path record = home.resolve("runs").resolve(run).resolve("record.json");
      Files.createDirectories(record.getParent());
      Files.copy(fixture(run), record);
    }
  }

  static Path fixture(String run) throws URISyntaxException {
    return Path.of(
        CompareCommandTest.class.getResource("/records/" + run + "/record.json").toURI());
  }

  private Cli.Result compare(String... args) throws Exception {
    storeTheFixtures(home);
    List<String> line = new ArrayList<>(List.of("compare"));
    line.addAll(List.of(args));
    return new Cli(home).run(line.toArray(String[]::new));
  }

  // --- the table -----------------------------------------------------------------------------

  @Test
  void aRecordReadsBackIntoTheTable() throws Exception {
    RunRecord record = RunRecords.read(fixture(A));

    Comparison.Run run = Comparison.of(List.of(record), List.of("a")).runs().get(0);

    assertEquals(
        List.of("easy", "medium", "hard"), run.phases().stream().map(r -> r.phase()).toList());
    Comparison.Row medium = run.phases().get(1);
    assertEquals(1050L, medium.steps());
    assertEquals(0.0006, medium.loss());
    assertEquals(0.031296, medium.evalLoss());
    assertEquals(15.823, medium.wallSeconds(), 1e-9);
    assertEquals(0.0, medium.gpuHours());
    Comparison.Row total = run.total();
    assertEquals(3000L, total.steps());
    assertEquals(0.001, total.loss(), "the last phase's");
    assertEquals(0.000841, total.evalLoss(), "the last phase's");
    assertEquals(49.95, total.wallSeconds(), 1e-9, "from the run's start to its end");
  }

  @Test
  void theTableShowsEveryPhaseOfEveryRunAndWhereTheRecipesDiffer() throws Exception {
    Cli.Result result = compare(A, B);

    assertEquals(0, result.exitCode(), result.err());
    assertEquals("", result.err());
    assertEquals(
        """
        run                        recipe  state      started                  backend
        demo-20261207-153213-4f2a  demo    COMPLETED  2026-12-07 15:32:13 UTC  local
        demo-20261207-153312-9b1c  demo    COMPLETED  2026-12-07 15:33:12 UTC  local

        run                        phase   state      steps  loss    eval loss  wall time  GPU-hours
        demo-20261207-153213-4f2a  easy    COMPLETED    900  0.0005  0.407          17.2s       0.00
                                   medium  COMPLETED   1050  0.0006  0.0313         15.8s       0.00
                                   hard    COMPLETED   1050  0.001   0.000841       15.9s       0.00
                                   total   COMPLETED   3000  0.001   0.000841       50.0s       0.00
        demo-20261207-153312-9b1c  easy    COMPLETED    900  0.0005  0.407          14.8s       0.00
                                   medium  COMPLETED   1050  0.0005  0.02964        15.7s       0.00
                                   hard    COMPLETED   1050  0.0011  0.00071        15.1s       0.00
                                   total   COMPLETED   3000  0.0011  0.00071        47.1s       0.00

        recipe setting          demo-20261207-153213-4f2a  demo-20261207-153312-9b1c
        phases[1].optimizer.lr  0.01                       0.003
        """,
        result.out());
  }

  @Test
  void jsonHasTheTablesNumbers() throws Exception {
    Cli.Result result = compare(A, B, "--json");

    assertEquals(0, result.exitCode(), result.err());
    JsonNode json = RunView.JSON.readTree(result.out());
    JsonNode medium = json.at("/runs/1/phases/1");
    assertEquals("medium", medium.get("phase").asText());
    assertEquals(1050, medium.get("steps").asLong());
    assertEquals(0.0005, medium.get("loss").asDouble());
    assertEquals(0.029638, medium.get("evalLoss").asDouble());
    assertEquals(0.00071, json.at("/runs/1/total/evalLoss").asDouble());
    assertEquals(B, json.at("/runs/1/runId").asText());
    assertEquals("phases[1].optimizer.lr", json.at("/recipeDifferences/0/path").asText());
    assertEquals("[0.01,0.003]", json.at("/recipeDifferences/0/values").toString());
  }

  @Test
  void oneRunIsFineAndARunFolderOrARecordFileNamesOne() throws Exception {
    storeTheFixtures(home);
    Cli cli = new Cli(home);

    Cli.Result byId = cli.run("compare", A);
    Cli.Result byFolder = cli.run("compare", home.resolve("runs").resolve(A).toString());
    Cli.Result byFile = cli.run("compare", fixture(A).toString());

    assertEquals(0, byId.exitCode(), byId.err());
    assertTrue(byId.out().contains("total   COMPLETED   3000"), byId.out());
    assertFalse(byId.out().contains("recipe setting"), "nothing to compare a recipe with");
    assertEquals(byId.out(), byFolder.out());
    assertEquals(byId.out(), byFile.out());
  }

  @Test
  void gpuHoursAddUpAndARunningPhaseCountsUntilTheRecordsLastWrite() {
    RunRecord.PhaseRecord done =
        phase(
            0,
            "sft",
            "COMPLETED",
            0,
            100,
            100,
            2.5,
            "2026-12-07T10:00:00Z",
            "2026-12-07T11:00:00Z");
    RunRecord.PhaseRecord running =
        phase(1, "grpo", "RUNNING", 100, 200, 140, 1.25, "2026-12-07T11:00:05Z", null);
    RunRecord.PhaseRecord pending = phase(2, "eval", "PENDING", 200, 210, 200, null, null, null);
    RunRecord record =
        new RunRecord(
            RunRecord.SCHEMA,
            "sft-grpo-1",
            "sft-then-grpo",
            null,
            "dev",
            "kubernetes",
            null,
            "RUNNING",
            null,
            "2026-12-07T10:00:00Z",
            null,
            "2026-12-07T11:30:05Z",
            140,
            210,
            List.of(done, running, pending),
            null);

    Comparison.Run run = Comparison.of(List.of(record), List.of("x")).runs().get(0);

    assertEquals(1800.0, run.phases().get(1).wallSeconds(), "until the record's last write");
    assertEquals(40L, run.phases().get(1).steps());
    assertNull(run.phases().get(2).steps(), "a pending phase trained nothing");
    assertNull(run.phases().get(2).wallSeconds());
    assertEquals(3.75, run.total().gpuHours());
    assertEquals(140L, run.total().steps());
    assertEquals(5405.0, run.total().wallSeconds());
    String table = Comparison.of(List.of(record), List.of("x")).table();
    assertTrue(
        table.contains(
            "\n            grpo   RUNNING       40  –     –            30m 00s       1.25\n"),
        table);
  }

  private static RunRecord.PhaseRecord phase(
      int index,
      String name,
      String state,
      long start,
      long end,
      long step,
      Double gpuHours,
      String startedAt,
      String endedAt) {
    return new RunRecord.PhaseRecord(
        index, name, "tiny", "train", state, start, end, step, 1, startedAt, endedAt, null, null,
        null, null, 8, gpuHours, null, null, null, null, null, null);
  }

  @Test
  void numbersAndDurationsReadWell() {
    assertEquals("0.000532", Comparison.number(0.000532));
    assertEquals("0.4071", Comparison.number(0.40713));
    assertEquals("12.35", Comparison.number(12.3456));
    assertEquals("3.200e-07", Comparison.number(3.2e-7));
    assertEquals("–", Comparison.number(null));
    assertEquals("14.2s", Comparison.duration(14.21));
    assertEquals("3m 05s", Comparison.duration(185.0));
    assertEquals("2h 07m", Comparison.duration(7620.0));
  }

  // --- the HTML report -----------------------------------------------------------------------

  @Test
  void htmlWritesOnePageAndSaysWhere() throws Exception {
    Path page = home.resolve("report.html");

    Cli.Result result = compare(A, B, "--html", page.toString());

    assertEquals(0, result.exitCode(), result.err());
    assertTrue(result.out().endsWith("wrote " + page + "\n"), result.out());
    String html = Files.readString(page);
    assertTrue(html.contains("var uPlot="), "uPlot is inlined");
    assertFalse(html.contains("<link") || html.contains(" src="), "nothing to fetch");
    try (var files = Files.list(home)) {
      assertEquals(
          List.of(page),
          files
              .filter(f -> f.toString().endsWith("html") || f.toString().endsWith(".tmp"))
              .toList());
    }
  }

  @Test
  void withJsonTheWroteLineGoesToStandardError() throws Exception {
    Path page = home.resolve("report.html");

    Cli.Result result = compare(A, "--json", "--html", page.toString());

    assertEquals(0, result.exitCode(), result.err());
    RunView.JSON.readTree(result.out());
    assertEquals("wrote " + page + "\n", result.err());
  }

  // --- progress ------------------------------------------------------------------------------

  @Test
  void manyRecordsAreAnnouncedAndTwoAreNot() throws Exception {
    storeTheFixtures(home);
    List<String> many = new ArrayList<>(List.of("compare"));
    for (int i = 0; i < CompareCommand.MANY; i++) {
      Path copy = home.resolve("copies").resolve("run-" + i).resolve("record.json");
      Files.createDirectories(copy.getParent());
      Files.writeString(copy, Files.readString(fixture(A)).replace(A, "run-" + i));
      many.add(copy.getParent().toString());
    }
    Cli cli = new Cli(home);

    Cli.Result two = cli.run("compare", A, B);
    Cli.Result five = cli.run(many.toArray(String[]::new));

    assertEquals("", two.err());
    assertEquals(0, five.exitCode(), five.err());
    assertEquals("reading " + CompareCommand.MANY + " records…\n", five.err());
  }

  // --- bad input: one line, exit 2 -----------------------------------------------------------

  @Test
  void anUnknownRunIsOneLine() throws Exception {
    Cli.Result result = compare(A, "no-such-run");

    assertBadInput(
        result,
        "no run 'no-such-run' in "
            + home.resolve("runs")
            + " (give a run id, a run folder or a record.json)");
  }

  @Test
  void aRunWithoutARecordIsOneLine() throws Exception {
    Files.createDirectories(home.resolve("runs").resolve("old-run").resolve("0-easy"));

    Cli.Result result = compare("old-run");

    assertBadInput(
        result,
        "run 'old-run' has no record: "
            + home.resolve("runs/old-run/record.json")
            + " does not exist (runs started before Syllabus wrote records have none)");
  }

  @Test
  void aFileThatIsNotARecordIsOneLineNamingIt() throws Exception {
    Path lineage = home.resolve("lineage.json");
    Files.writeString(lineage, "{\"runId\": \"x\", \"artifacts\": []}");

    Cli.Result result = compare(A, lineage.toString());

    assertBadInput(result, lineage + ": not a Syllabus run record (no \"schema\" field)");
  }

  @Test
  void aPathThatIsNotThereIsOneLine() throws Exception {
    Cli.Result result = compare("backup/x/record.json");

    assertBadInput(result, "backup/x/record.json: no such file or folder");
  }

  @Test
  void theSameRunTwiceIsOneLine() throws Exception {
    Cli.Result result = compare(A, fixture(A).toString());

    assertBadInput(result, "run '" + A + "' is named twice (" + A + " and " + fixture(A) + ")");
  }

  @Test
  void aPageInAFolderThatIsNotThereIsOneLine() throws Exception {
    Path page = home.resolve("no-folder/report.html");

    Cli.Result result = compare(A, "--html", page.toString());

    assertBadInput(result, "--html " + page + ": no folder " + page.getParent());
  }

  @Test
  void noRunIsAUsageError() throws Exception {
    Cli.Result result = compare();

    assertEquals(Exit.BAD_INPUT, result.exitCode());
    assertTrue(result.err().startsWith("Missing required parameter: 'RUN|RECORD'"), result.err());
  }

  private static void assertBadInput(Cli.Result result, String line) {
    assertEquals(Exit.BAD_INPUT, result.exitCode(), result.err());
    assertEquals(line + "\n", result.err());
    assertEquals("", result.out(), "nothing on standard output");
  }
}
