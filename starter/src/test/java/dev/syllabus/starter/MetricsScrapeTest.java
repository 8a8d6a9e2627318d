package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus dev --metrics-port}: Prometheus scrapes the worker while the demo recipe runs
 * (the real workflows, the local backend, the real tiny trainer), and what it reads agrees with the
 * run. The last scrape is kept in {@code target/metrics-scrape.txt} (docs/monitoring.md shows it).
 */
@Timeout(300)
class MetricsScrapeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> PHASES = List.of("easy", "medium", "hard");

  @TempDir Path home;
  private final HttpClient http = HttpClient.newHttpClient();
  private Cli cli;
  private Thread dev;
  private String address;
  private int metricsPort;

  @BeforeEach
  void startDevWithMetrics() throws Exception {
    cli = new Cli(home);
    int port = freePort();
    metricsPort = freePort();
    address = "127.0.0.1:" + port;
    String[] args = {
      "dev", "--embedded", "--port", Integer.toString(port), "--metrics-port", "" + metricsPort
    };
    dev = new Thread(() -> cli.run(args), "dev");
    dev.start();
    eventually("dev serves", () -> cli.run("status", "none", "--address", address).exitCode() == 2);
  }

  @AfterEach
  void stopDev() throws Exception {
    dev.interrupt();
    dev.join(30_000);
  }

  @Test
  void aScrapeDuringAndAfterTheDemoAgreesWithTheRun() throws Exception {
    Cli.Result run = cli.run("run", "recipes/demo.yaml", "--id", "m", "--address", address);
    assertEquals(0, run.exitCode(), run.err());

    awaitStatus("easy trains", s -> phase(s, 0).get("step").asLong() > 0);
    Scrape during =
        awaitScrape(
            "easy shows RUNNING",
            s -> s.value("syllabus_phase_state", "run=m", "phase=easy", "state=RUNNING") == 1);
    assertEquals(1, during.value("syllabus_run_state", "run=m", "recipe=demo", "state=RUNNING"));
    assertEquals(0, during.value("syllabus_phase_state", "run=m", "phase=hard", "state=RUNNING"));

    JsonNode done = awaitStatus("the run completes", s -> state(s).equals("COMPLETED"));
    Scrape after =
        awaitScrape(
            "the run shows COMPLETED",
            s -> s.value("syllabus_run_state", "run=m", "state=COMPLETED") == 1);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "metrics-scrape.txt"), after.text());

    long phasesThatRan = 0;
    for (int i = 0; i < PHASES.size(); i++) {
      String name = PHASES.get(i);
      String finalState = phase(done, i).get("state").asText();
      assertEquals("COMPLETED", finalState, name);
      phasesThatRan++;
      assertEquals(
          1, after.value("syllabus_phase_state", "run=m", "phase=" + name, "state=" + finalState));
      assertEquals(
          1.0,
          after.sum("syllabus_phase_state", "run=m", "phase=" + name),
          name + ": one state at a time");
      assertTrue(
          after.value("syllabus_phase_running_seconds_total", "run=m", "phase=" + name) >= 1,
          name + " ran for seconds");
    }
    assertEquals(0, after.value("syllabus_run_state", "run=m", "state=RUNNING"));
    assertEquals(
        phasesThatRan - 1,
        (long) after.sum("syllabus_handoff_latency_seconds_count"),
        "one handoff between each two phases");
    assertTrue(after.sum("syllabus_handoff_latency_seconds_sum") > 0);
    assertEquals(0, after.sum("syllabus_pause_latency_seconds_count"));
    assertTrue(
        after.sum("syllabus_follow_heartbeats_total", "activity_type=FollowJob") > 0,
        "the follow activity heartbeats");
    assertFalse(after.has("syllabus_phase_gpu_seconds_total"), "the demo asks for no GPU");
  }

  @Test
  void theTemporalSdksOwnWorkerMetricsAreServedBeside() throws Exception {
    Cli.Result run = cli.run("run", "recipes/demo.yaml", "--id", "s", "--address", address);
    assertEquals(0, run.exitCode(), run.err());
    Scrape scrape =
        awaitScrape(
            "activities ran", s -> s.sum("temporal_activity_execution_latency_seconds_count") > 0);

    for (String name :
        List.of(
            "temporal_workflow_task_execution_latency_seconds_count",
            "temporal_workflow_task_schedule_to_start_latency_seconds_count",
            "temporal_activity_schedule_to_start_latency_seconds_count",
            "temporal_num_pollers",
            "temporal_sticky_cache_size",
            "temporal_request_total")) {
      assertTrue(scrape.has(name), name + " in\n" + scrape.text());
    }
    cli.run("cancel", "s", "--address", address);
  }

  // --- the run, the scrape --------------------------------------------------------------------

  private static JsonNode phase(JsonNode status, int index) {
    return status.get("phases").get(index);
  }

  private static String state(JsonNode status) {
    return status.get("state").asText();
  }

  private JsonNode awaitStatus(String what, Predicate<JsonNode> condition) throws Exception {
    JsonNode[] last = new JsonNode[1];
    eventually(
        what,
        () -> {
          Cli.Result status = cli.run("status", "m", "--json", "--address", address);
          if (status.exitCode() != 0) {
            return false;
          }
          last[0] = JSON.readTree(status.out());
          return condition.test(last[0]);
        });
    return last[0];
  }

  private Scrape awaitScrape(String what, Predicate<Scrape> condition) throws Exception {
    Scrape[] last = new Scrape[1];
    eventually(
        what,
        () -> {
          HttpResponse<String> response =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertEquals(200, response.statusCode());
          last[0] = Scrape.parse(response.body());
          return condition.test(last[0]);
        });
    return last[0];
  }

  /** One scrape in Prometheus's text format: its samples, by name and labels. */
  record Scrape(String text, List<Sample> samples) {
    private static final Pattern LINE =
        Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    record Sample(String name, Map<String, String> labels, double value) {
      boolean matches(String wanted, String... labelValues) {
        if (!name.equals(wanted)) {
          return false;
        }
        for (String pair : labelValues) {
          String[] kv = pair.split("=", 2);
          if (!kv[1].equals(labels.get(kv[0]))) {
            return false;
          }
        }
        return true;
      }
    }

    static Scrape parse(String text) {
      List<Sample> samples = new ArrayList<>();
      for (String line : text.lines().toList()) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
          throw new AssertionError("not a sample: " + line);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (m.group(2) != null) {
          Matcher l = LABEL.matcher(m.group(2));
          while (l.find()) {
            labels.put(l.group(1), l.group(2));
          }
        }
        samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
      }
      return new Scrape(text, samples);
    }

    boolean has(String name) {
      return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    /** The one sample of {@code name} with these {@code label=value}s; NaN when there is none. */
    double value(String name, String... labelValues) {
      List<Sample> found = samples.stream().filter(s -> s.matches(name, labelValues)).toList();
      if (found.size() > 1) {
        throw new AssertionError(
            found.size() + " samples match " + name + " " + List.of(labelValues));
      }
      return found.isEmpty() ? Double.NaN : found.get(0).value();
    }

    /** The sum over every sample of {@code name} with these {@code label=value}s. */
    double sum(String name, String... labelValues) {
      return samples.stream()
          .filter(s -> s.matches(name, labelValues))
          .mapToDouble(Sample::value)
          .sum();
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  interface Check {
    boolean holds() throws Exception;
  }

  private static void eventually(String what, Check check) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!check.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(200);
    }
  }
}
