package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.activities.record.RunRecords;
import dev.syllabus.worker.Paths;
import dev.syllabus.workflows.recipe.Recipe;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code syllabus list} from the runs' records, when no Temporal runs or with --records. */
class RecordedRunsTest {
  private static final Path RECORDS = Path.of("src/test/resources/records");
  private static final String FIRST = "demo-20261207-153213-4f2a";
  private static final String SECOND = "demo-20261207-153312-9b1c";

  @TempDir Path home;

  @BeforeEach
  void twoDemoRunsAndAFolderWithoutARecord() throws Exception {
    for (String run : List.of(FIRST, SECOND)) {
      Path folder = Files.createDirectories(home.resolve("runs").resolve(run));
      Files.copy(RECORDS.resolve(run).resolve("record.json"), folder.resolve("record.json"));
    }
    Files.createDirectories(home.resolve("runs/before-records/0-easy"));
  }

  @Test
  void theRecordedRunsAreListedNewestFirstAsTheirRecordsSay() {
    List<ListedRun> runs = RecordedRuns.list(home.resolve("runs"), null, null, 20);

    assertEquals(List.of(SECOND, FIRST), runs.stream().map(ListedRun::runId).toList());
    ListedRun second = runs.get(0);
    assertEquals("demo", second.recipe());
    assertEquals(ListedRun.State.COMPLETED, second.state());
    assertEquals("hard", second.phase());
    assertEquals(3000L, second.step());
    assertEquals(1.0, second.t());
    assertTrue(second.ended().isAfter(second.started()));
  }

  @Test
  void theFiltersAndTheLimitApplyToRecordsToo() {
    Path runs = home.resolve("runs");
    assertEquals(1, RecordedRuns.list(runs, null, null, 1).size());
    assertEquals(2, RecordedRuns.list(runs, ListedRun.State.COMPLETED, "demo", 20).size());
    assertEquals(0, RecordedRuns.list(runs, ListedRun.State.FAILED, null, 20).size());
    assertEquals(0, RecordedRuns.list(runs, null, "other", 20).size());
    assertEquals(0, RecordedRuns.list(home.resolve("nothing-here"), null, null, 20).size());
  }

  @Test
  void aRecordsRecipeReadsBackAsTheRecipeTheRunRan() throws Exception {
    Path file = home.resolve("runs").resolve(FIRST).resolve("record.json");
    Recipe recorded = RunRecords.recipeOf(file, RunRecords.read(file));
    Recipe demo = RecipeFiles.load(new Paths(Cli.REPO, home), "recipes/demo.yaml", List.of());
    assertEquals(demo, recorded);

    Path other = home.resolve("runs").resolve(SECOND).resolve("record.json");
    assertEquals(
        0.003, RunRecords.recipeOf(other, RunRecords.read(other)).phases().get(1).optimizer().lr());
  }

  @Test
  void withNoTemporalOnThisMachineListShowsTheRecordsAndSaysSo() throws Exception {
    int unused;
    try (ServerSocket socket = new ServerSocket(0)) {
      unused = socket.getLocalPort();
    }
    Cli.Result result = new Cli(home).run("list", "--address", "127.0.0.1:" + unused);

    assertEquals(0, result.exitCode(), result.err());
    assertTrue(
        result.err().contains("showing the runs recorded in " + home.resolve("runs")),
        result.err());
    List<String> lines = result.out().lines().toList();
    assertEquals(3, lines.size(), result.out());
    assertTrue(
        lines.get(1).matches(SECOND + " +demo +COMPLETED +hard +3000 +1\\.000 .*"), lines.get(1));
  }

  @Test
  void withRecordsListAsksNoTemporal() {
    Cli.Result result =
        new Cli(home).run("list", "--records", "--json", "--address", "192.0.2.1:7233");

    assertEquals(0, result.exitCode(), result.err());
    assertEquals("", result.err());
    assertTrue(result.out().contains("\"runId\" : \"" + FIRST + "\""), result.out());
  }
}
