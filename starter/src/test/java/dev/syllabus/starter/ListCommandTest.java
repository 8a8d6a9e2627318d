package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.worker.EmbeddedTemporal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus list} against the Temporal CLI's dev server (its visibility store, with the
 * search attributes runs set), as from a second terminal beside {@code syllabus dev}.
 */
@Timeout(300)
class ListCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path home;
  private Cli cli;
  private DevInThread dev;
  private String address;

  @AfterEach
  void stopDev() throws Exception {
    if (dev != null) {
      dev.close();
    }
  }

  @Test
  void listsRunsWithTheirStateRecipeAndPhaseAndFiltersThem() throws Exception {
    Path temporal = RealTemporal.binary();
    startDev();
    run(
        "quick",
        "phases[easy].config.step_pause_ms=0",
        "phases[medium].config.step_pause_ms=0",
        "phases[hard].config.step_pause_ms=0");
    run("held", "name=other", "phases[easy].config.step_pause_ms=40");
    awaitList("held trains", "held", r -> r.get("step").asLong() > 0);
    Cli.Result pause = cli.run("pause", "held", "--address", address);
    assertEquals(0, pause.exitCode(), pause.err());

    JsonNode quick =
        awaitList("quick completes", "quick", r -> r.get("state").asText().equals("COMPLETED"));
    assertEquals("demo", quick.get("recipe").asText());
    assertEquals("hard", quick.get("phase").asText());
    assertEquals(3000, quick.get("step").asLong());
    assertEquals(1.0, quick.get("t").asDouble());
    assertTrue(quick.hasNonNull("ended"), quick.toString());
    JsonNode held =
        awaitList("held is paused", "held", r -> r.get("state").asText().equals("PAUSED"));
    assertEquals("other", held.get("recipe").asText());
    assertEquals("easy", held.get("phase").asText());
    assertTrue(held.get("ended").isNull(), held.toString());
    // Only runs: their phases' workflows are not listed.
    assertEquals(List.of("held", "quick"), ids(list()));

    assertEquals(List.of("held"), ids(list("--state", "paused")));
    assertEquals(List.of("quick"), ids(list("--state", "COMPLETED")));
    assertEquals(List.of(), ids(list("--state", "running")));
    assertEquals(List.of("held"), ids(list("--recipe", "other")));
    assertEquals(1, list("--limit", "1").size());

    Cli.Result table = cli.run("list", "--address", address);
    assertEquals(0, table.exitCode(), table.err());
    List<String> lines = table.out().lines().toList();
    assertTrue(
        lines.get(0).matches("RUN +RECIPE +STATE +PHASE +STEP +T +STARTED +DURATION"),
        lines.get(0));
    assertTrue(lines.get(1).matches("held +other +PAUSED +easy .* so far"), lines.get(1));
    assertTrue(
        lines.get(2).matches("quick +demo +COMPLETED +hard +3000 +1\\.000 .*"), lines.get(2));

    // Ended from outside: its own attributes still say PAUSED, Temporal knows better.
    RealTemporal.temporal(
        temporal, "workflow", "terminate", "--address", address, "--workflow-id", "held");
    awaitList("held is terminated", "held", r -> r.get("state").asText().equals("TERMINATED"));
    assertEquals(List.of("held"), ids(list("--state", "terminated")));

    // `run --wait` returns when its run is ended from outside, though the run never said so.
    CompletableFuture<Cli.Result> waiting =
        CompletableFuture.supplyAsync(
            () ->
                cli.run(
                    "run",
                    "recipes/demo.yaml",
                    "--id",
                    "watched",
                    "--wait",
                    "--address",
                    address,
                    "--set",
                    "phases[easy].config.step_pause_ms=40"));
    awaitList("watched trains", "watched", r -> r.get("step").asLong() > 0);
    RealTemporal.temporal(
        temporal, "workflow", "terminate", "--address", address, "--workflow-id", "watched");
    Cli.Result waited = waiting.get(120, TimeUnit.SECONDS);
    assertEquals(1, waited.exitCode(), waited.out() + waited.err());
  }

  @Test
  void anUnknownStateIsBadInputNamingTheValidOnes() {
    Cli.Result bad = new Cli(home).run("list", "--state", "sleeping");
    assertEquals(2, bad.exitCode());
    assertEquals(
        "--state: unknown state 'sleeping'; valid: RUNNING, PAUSED, COMPLETED, FAILED, CANCELED,"
            + " TERMINATED, TIMED_OUT",
        bad.err().strip());
  }

  @Test
  void theInProcessServerSaysItCannotList() {
    try (EmbeddedTemporal embedded = EmbeddedTemporal.start(0)) {
      Cli.Result list = new Cli(home).run("list", "--address", embedded.address());
      assertEquals(1, list.exitCode(), list.out());
      assertTrue(
          list.err()
              .strip()
              .startsWith(
                  "syllabus: Temporal at "
                      + embedded.address()
                      + " cannot list runs: it has no visibility store"),
          list.err());
    }
  }

  private void startDev() throws Exception {
    cli = new Cli(home);
    dev = DevInThread.start(cli);
    address = dev.address;
  }

  private void run(String id, String... overrides) {
    dev.runDemo(cli, id, overrides);
  }

  private JsonNode list(String... filters) throws Exception {
    List<String> args = new ArrayList<>(List.of("list", "--json", "--address", address));
    args.addAll(List.of(filters));
    Cli.Result list = cli.run(args.toArray(String[]::new));
    assertEquals(0, list.exitCode(), list.err());
    return JSON.readTree(list.out());
  }

  private static List<String> ids(JsonNode runs) {
    List<String> ids = new ArrayList<>();
    runs.forEach(r -> ids.add(r.get("runId").asText()));
    return ids.stream().sorted().toList();
  }

  /** Waits until {@code list} shows run {@code id} as {@code condition} wants; returns its row. */
  private JsonNode awaitList(String what, String id, Predicate<JsonNode> condition)
      throws Exception {
    JsonNode[] row = new JsonNode[1];
    DevInThread.eventually(
        what,
        Duration.ofSeconds(120),
        () -> {
          for (JsonNode r : list()) {
            if (r.get("runId").asText().equals(id) && condition.test(r)) {
              row[0] = r;
              return true;
            }
          }
          return false;
        });
    return row[0];
  }
}
