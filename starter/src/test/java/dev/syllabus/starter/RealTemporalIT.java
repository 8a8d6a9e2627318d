package dev.syllabus.starter;

import static dev.syllabus.starter.RealTemporal.await;
import static dev.syllabus.starter.RealTemporal.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.starter.RealTemporal.WorkerProcess;
import dev.syllabus.worker.CliDevServer;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo curriculum on the real Temporal dev server, with the worker as a JVM of its own, killed
 * with SIGKILL at every stage of a phase; the server killed the same way; signals sent with the
 * {@code temporal} CLI.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class RealTemporalIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path home;
  private static Path binary;
  private static CliDevServer server;
  private static Temporal temporal;
  private static int port;
  private static TrainerWatch watch;

  private final List<WorkerProcess> workers = new ArrayList<>();
  private int workerCount;

  @BeforeAll
  static void startServer() throws Exception {
    binary = RealTemporal.binary();
    server = startServerOn(0);
    port = Integer.parseInt(server.address().replaceAll(".*:", ""));
    temporal = Temporal.connect(server.address(), "default", Duration.ofSeconds(30));
    watch = TrainerWatch.start(home.resolve("runs"));
  }

  private static CliDevServer startServerOn(int port) {
    return CliDevServer.start(
        binary,
        port,
        0,
        home.resolve("temporal/dev.db"),
        home.resolve("temporal/dev.log"),
        "default");
  }

  @AfterAll
  static void stopServer() {
    if (watch != null) {
      watch.close();
    }
    if (temporal != null) {
      temporal.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @AfterEach
  void stopWorkers() throws Exception {
    for (WorkerProcess w : workers) {
      w.close();
    }
  }

  private WorkerProcess worker(String hold) throws Exception {
    WorkerProcess w =
        WorkerProcess.start(
            server.address(), home, home.resolve("worker-" + (++workerCount) + ".log"), hold);
    workers.add(w);
    return w;
  }

  private Cli.Result syllabus(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--address", server.address()));
    return new Cli(home).run(all.toArray(String[]::new));
  }

  private void startDemo(String id, String... overrides) {
    List<String> args = new ArrayList<>(List.of("run", "recipes/demo.yaml", "--id", id));
    args.addAll(List.of(overrides));
    Cli.Result run = syllabus(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.err());
  }

  private static RunStatus status(String id) {
    return RunView.fetch(temporal.client(), id);
  }

  private static RunStatus awaitStatus(String id, String what, Predicate<RunStatus> wanted)
      throws InterruptedException {
    RunStatus[] last = new RunStatus[1];
    await(
        what + " (run " + id + ")",
        Duration.ofMinutes(4),
        () -> {
          try {
            last[0] = status(id);
          } catch (RuntimeException e) {
            return false; // the server is restarting, or no worker answers queries yet
          }
          return wanted.test(last[0]);
        });
    return last[0];
  }

  private static RunStatus result(String id) throws java.util.concurrent.TimeoutException {
    return WorkflowStub.fromTyped(
            temporal.client().newWorkflowStub(dev.syllabus.workflows.CurriculumWorkflow.class, id))
        .getResult(8, TimeUnit.MINUTES, RunStatus.class);
  }

  private static Path phaseDir(String id, String folder) {
    return home.resolve("runs").resolve(id).resolve(folder);
  }

  private static boolean hasCheckpoint(String id, String folder) {
    try (Stream<Path> files = Files.list(phaseDir(id, folder))) {
      return files.anyMatch(p -> p.getFileName().toString().matches("checkpoint-\\d+"));
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static Path jobDir(String id, int index, String phase) {
    return phaseDir(id, index + "-" + phase)
        .resolve("jobs")
        .resolve(id + "-" + index + "-" + phase + "-1");
  }

  private static long count(Path log, String prefix) {
    return read(log).lines().filter(l -> l.startsWith(prefix)).count();
  }

  /** Each phase completed, trained its whole range, and handed on its last checkpoint. */
  private static void assertCompletedWholly(String id, RunStatus end) throws Exception {
    assertEquals(RunState.COMPLETED, end.state(), end.message());
    for (PhaseStatus p : end.phases()) {
      assertEquals(PhaseState.COMPLETED, p.state(), p.name() + ": " + p.message());
      assertEquals(p.stepEnd(), p.step(), p.name() + " reached its last step");
    }
    JsonNode lineage =
        JSON.readTree(home.resolve("runs").resolve(id).resolve("lineage.json").toFile());
    List<String> models = new ArrayList<>();
    for (JsonNode a : lineage.get("artifacts")) {
      if (a.get("kind").asText().equals("MODEL")) {
        models.add(a.get("path").asText());
      }
    }
    assertEquals(
        List.of(
            id + "/0-easy/checkpoint-900",
            id + "/1-medium/checkpoint-1050",
            id + "/2-hard/checkpoint-1050"),
        models,
        "every phase handed on the checkpoint of its last step");
  }

  @Test
  void theDemoSurvivesTheWorkerKilledAtEveryStage() throws Exception {
    String id = "crash";
    WorkerProcess first = worker("render@easy=8000");
    startDemo(id);

    // 1. During render: the phase's first activity (launch, render and start in one, waits for
    // render's hold before it runs).
    first.awaitLog("holding render of phase easy", Duration.ofMinutes(2));
    first.kill();

    // 2. During the phase, then the job killed too while no worker is up.
    WorkerProcess second = worker(null);
    await("a checkpoint of easy", Duration.ofMinutes(3), () -> hasCheckpoint(id, "0-easy"));
    second.kill();
    Path easyJob = jobDir(id, 0, "easy");
    long pgid = Long.parseLong(read(easyJob.resolve("pid")).trim().split("\\s+")[0]);
    RealTemporal.killGroup(pgid);
    assertFalse(Files.exists(easyJob.resolve("exit")), "a killed job leaves no exit code");

    // 3. During the handoff: the new worker starts easy again from its checkpoint, then dies as it
    // collects it.
    WorkerProcess third = worker("collect@easy=8000");
    third.awaitLog("holding collect of phase easy", Duration.ofMinutes(3));
    third.kill();

    // 4. During medium, which then finishes while no worker is up.
    WorkerProcess fourth = worker(null);
    await("a checkpoint of medium", Duration.ofMinutes(3), () -> hasCheckpoint(id, "1-medium"));
    fourth.kill();
    Path mediumJob = jobDir(id, 1, "medium");
    await(
        "medium's job to end on its own",
        Duration.ofMinutes(2),
        () -> Files.exists(mediumJob.resolve("exit")));
    assertEquals("0", read(mediumJob.resolve("exit")).trim());

    // 5. A last worker carries the run to its end.
    worker(null);
    RunStatus end = result(id);

    assertCompletedWholly(id, end);
    assertEquals(1, count(easyJob.resolve("output.log"), "syllabus: starting " + id + "-0-easy-1"));
    assertEquals(
        1,
        count(easyJob.resolve("output.log"), "syllabus: restarting " + id + "-0-easy-1"),
        "easy, killed while no worker was up, was started again once");
    assertTrue(
        read(easyJob.resolve("output.log")).contains("syllabus-tiny: resumed from"),
        "from its checkpoint");
    assertEquals(
        1, count(mediumJob.resolve("output.log"), "syllabus: starting " + id + "-1-medium-1"));
    assertEquals(0, count(mediumJob.resolve("output.log"), "syllabus: restarting"));
    for (String phase : List.of("0-easy", "1-medium", "2-hard")) {
      assertFalse(
          Files.exists(phaseDir(id, phase).resolve("jobs").resolve(id + "-" + phase + "-2")),
          phase + " never needed a second attempt");
    }
    assertNoSecondTrainer(id);
  }

  @Test
  void aMalformedHoldIsOneLineAndTheWorkerDoesNotStart() throws Exception {
    Process w =
        RealTemporal.worker(server.address(), home, "render=5000")
            .redirectErrorStream(true)
            .start();
    String out = new String(w.getInputStream().readAllBytes());

    assertTrue(w.waitFor(60, TimeUnit.SECONDS), "the worker exited");
    assertEquals(2, w.exitValue(), out);
    assertEquals(
        "a worker extension failed to start: SYLLABUS_HOLD: 'render=5000' is not"
            + " activity@phase=millis (e.g. render@easy=5000)\n",
        out);
  }

  /** No trainer ever found another one on its output dir, and none was seen running beside one. */
  private static void assertNoSecondTrainer(String id) throws Exception {
    try (Stream<Path> logs = Files.walk(home.resolve("runs").resolve(id))) {
      for (Path log : logs.filter(p -> p.getFileName().toString().equals("output.log")).toList()) {
        assertFalse(read(log).contains("refusing to start a second one"), log.toString());
      }
    }
    Map<String, Integer> most = watch.most();
    assertFalse(most.isEmpty(), "the watch saw the trainers");
    most.forEach((phase, n) -> assertEquals(1, n, "trainers seen at once for " + phase));
  }

  @Test
  void aRunSurvivesTheServerKilledAndStartedAgain() throws Exception {
    String id = "server-crash";
    WorkerProcess w = worker(null);
    startDemo(id);
    await("a checkpoint of easy", Duration.ofMinutes(3), () -> hasCheckpoint(id, "0-easy"));

    server.kill();
    Thread.sleep(2000);
    server = startServerOn(port);

    RunStatus end = result(id);
    assertCompletedWholly(id, end);
    assertTrue(w.process.isAlive(), "the same worker carried on");
  }

  @Test
  void signalsSentWithTheTemporalCliActLikeSyllabusCommands() throws Exception {
    String id = "signals";
    worker(null);
    // easy trains slowly enough to be looked at in the Web UI while it runs
    startDemo(id, "--set", "phases[easy].config.step_pause_ms=80");
    awaitStatus(id, "easy to train", s -> s.step() > 100);
    signal(id, "pause", "--input", "\"from the temporal CLI\"");
    RunStatus paused =
        awaitStatus(id, "the pause", s -> s.currentPhase().state() == PhaseState.PAUSED);
    assertEquals(RunState.PAUSED, paused.state());
    assertTrue(Files.exists(jobDir(id, 0, "easy").resolve("exit")), "the trainer stopped");
    assertTrue(
        String.valueOf(paused.currentPhase().message()).contains("from the temporal CLI"),
        String.valueOf(paused.currentPhase().message()));
    lookAtTheWebUi(id);

    signal(id, "resume");
    awaitStatus(
        id, "easy to train again", s -> s.state() == RunState.RUNNING && s.step() > paused.step());
    lookAtTheRunningPhase(id);

    signal(id, "advance", "--input", "\"good enough\"");
    awaitStatus(
        id,
        "medium to run",
        s -> s.phaseIndex() == 1 && s.currentPhase().state() == PhaseState.RUNNING);

    signal(id, "skip");
    RunStatus end = result(id);

    assertEquals(RunState.COMPLETED, end.state(), end.message());
    PhaseStatus easy = end.phases().get(0);
    assertEquals(PhaseState.ADVANCED, easy.state());
    assertTrue(easy.step() < easy.stepEnd(), "easy ended early, at " + easy.step());
    assertEquals(PhaseState.SKIPPED, end.phases().get(1).state());
    assertEquals(PhaseState.COMPLETED, end.phases().get(2).state());
    assertTrue(
        read(home.resolve("runs").resolve(id).resolve("lineage.json"))
            .contains("\"" + id + "/0-easy/checkpoint-" + easy.step() + "\""),
        "easy's early checkpoint was handed on");
    assertTrue(
        read(jobDir(id, 2, "hard").resolve("launch.json"))
            .contains(home.resolve("runs").resolve(id) + "/0-easy/checkpoint-" + easy.step()),
        "hard started from easy's checkpoint, as medium was skipped");
  }

  /** Sends a signal with the {@code temporal} CLI, as a person would from a terminal. */
  private static void signal(String id, String name, String... input) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "workflow",
                "signal",
                "--address",
                server.address(),
                "--workflow-id",
                id,
                "--name",
                name));
    args.addAll(List.of(input));
    RealTemporal.temporal(binary, args.toArray(String[]::new));
  }

  /**
   * The paused run in the Web UI, in headless Chromium: its page shows the phases and their states
   * (the current details), the search attributes filter it; screenshots of both for the docs.
   */
  private void lookAtTheWebUi(String id) throws Exception {
    if (!Chromium.installed()) {
      System.err.println(
          Chromium.missing().orElseThrow() + ": the Web UI is not looked at (browser parts skip)");
      return;
    }
    String ui = server.webUi().orElseThrow();
    try (Chromium chromium = Chromium.start(home.resolve("chromedriver.log"))) {
      chromium.open(ui + "/namespaces/default/workflows/" + id);
      chromium.waitForText(Duration.ofSeconds(60), id, "RUNNING", "CurriculumWorkflow");
      screenshot(chromium, "run.png");
      System.out.println("=== run page\n" + chromium.text());
      chromium.click("User Metadata");
      // One list item per phase, its steps and state legible (a table would run them together).
      String metadata =
          chromium.waitForText(
              Duration.ofSeconds(30),
              "demo · PAUSED · step ",
              "0 easy · PAUSED · steps 0 → 900, at ",
              "1 medium · PENDING · steps 900 → 1950",
              "2 hard · PENDING · steps 1950 → 3000");
      System.out.println("=== user metadata\n" + metadata);
      screenshot(chromium, "run-details.png");
      chromium.click("Search Attributes");
      String attributes =
          chromium.waitForText(
              Duration.ofSeconds(30), "SyllabusState", "PAUSED", "SyllabusRecipe", "demo");
      System.out.println("=== search attributes\n" + attributes);
      screenshot(chromium, "run-search-attributes.png");

      String query =
          java.net.URLEncoder.encode(
              "SyllabusState = \"PAUSED\" AND SyllabusRecipe = \"demo\"",
              java.nio.charset.StandardCharsets.UTF_8);
      chromium.open(ui + "/namespaces/default/workflows?query=" + query);
      String list = chromium.waitForText(Duration.ofSeconds(60), "SyllabusState = \"PAUSED\"", id);
      assertFalse(list.contains("crash\t"), "a run that is not paused is filtered out");
      screenshot(chromium, "paused-runs.png");

      chromium.open(ui + "/namespaces/default/workflows/" + id);
      chromium.waitForText(Duration.ofSeconds(60), "Relationships");
      // The phase runs as a child workflow, linked from its parent.
      chromium.open(ui + "/namespaces/default/workflows/" + id + ".0-easy");
      chromium.waitForText(Duration.ofSeconds(60), id + ".0-easy", "PhaseWorkflow", id);
      screenshot(chromium, "phase.png");
      chromium.click("User Metadata");
      String phase =
          chromium.waitForText(
              Duration.ofSeconds(30), "state: PAUSED", "step: ", "checkpoint: checkpoint-");
      System.out.println("=== phase user metadata\n" + phase);
      screenshot(chromium, "phase-details.png");
    }
  }

  /** The running phase's pending follow activity shows the job's step and loss as it heartbeats. */
  private void lookAtTheRunningPhase(String id) throws Exception {
    if (!Chromium.installed()) {
      return; // said so in lookAtTheWebUi
    }
    String ui = server.webUi().orElseThrow();
    try (Chromium chromium = Chromium.start(home.resolve("chromedriver-running.log"))) {
      // The page shows what was pending when it loaded; the follow activity returns every few
      // seconds and starts again, so a load may fall between two of them: load again then.
      String pending = null;
      for (int tries = 0; pending == null; tries++) {
        chromium.open(ui + "/namespaces/default/workflows/" + id + ".0-easy");
        chromium.waitForText(Duration.ofSeconds(60), id + ".0-easy", "PhaseWorkflow");
        chromium.click("Pending Activities");
        try {
          pending =
              chromium.waitForText(
                  Duration.ofSeconds(5), "FollowJob", "Heartbeat Details", "\"step\"", "\"loss\"");
        } catch (IllegalStateException e) {
          System.out.println("=== pending activities, try " + tries + "\n" + e.getMessage());
          if (tries == 5) {
            throw e;
          }
        }
      }
      System.out.println("=== pending activities\n" + pending);
      screenshot(chromium, "phase-heartbeat.png");
    }
  }

  /** Saves a screenshot under target/screenshots, and in {@code -Dsyllabus.screenshots} if set. */
  private static void screenshot(Chromium chromium, String name) throws Exception {
    Path shot = Path.of("target", "screenshots", name);
    chromium.screenshot(shot);
    String docs = System.getProperty("syllabus.screenshots");
    if (docs != null) {
      Path copy = Path.of(docs).resolve(name);
      Files.createDirectories(copy.getParent());
      Files.copy(shot, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Samples the running tiny trainers every 50 ms, grouped by the phase folder their job belongs to
   * (from the marker in their environment), and keeps the most seen at once for each.
   */
  static final class TrainerWatch implements AutoCloseable {
    private final Map<String, Integer> most = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    private TrainerWatch(Path runs) {
      thread =
          new Thread(
              () -> {
                while (running) {
                  sample(runs);
                  try {
                    Thread.sleep(50);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "trainer-watch");
      thread.setDaemon(true);
    }

    static TrainerWatch start(Path runs) {
      TrainerWatch w = new TrainerWatch(runs);
      w.thread.start();
      return w;
    }

    private void sample(Path runs) {
      Map<String, Integer> now = new java.util.HashMap<>();
      String marker = "SYLLABUS_LOCAL_JOB=" + runs.toAbsolutePath().normalize() + "/";
      try (var entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
        for (Path entry : entries) {
          try {
            if (!isTrainer(Files.readString(entry.resolve("cmdline")))) {
              continue;
            }
            for (String var : Files.readString(entry.resolve("environ")).split("\0")) {
              if (var.startsWith(marker)) {
                String phase =
                    Path.of(var.substring("SYLLABUS_LOCAL_JOB=".length()))
                        .getParent()
                        .getParent()
                        .toString();
                now.merge(phase, 1, Integer::sum);
              }
            }
          } catch (java.io.IOException | RuntimeException e) {
            // gone meanwhile
          }
        }
      } catch (java.io.IOException e) {
        return;
      }
      now.forEach((phase, n) -> most.merge(phase, n, Math::max));
    }

    /**
     * A Python process running the tiny trainer: not the wrapper shell, nor the shells a Python
     * launcher such as pyenv's shim forks on its way to Python, which carry the same arguments.
     */
    static boolean isTrainer(String cmdline) {
      String[] argv = cmdline.split("\0");
      return argv.length > 1
          && Path.of(argv[0]).getFileName().toString().startsWith("python")
          && List.of(argv).stream().anyMatch(a -> a.endsWith("tiny_trainer.py"));
    }

    Map<String, Integer> most() {
      return Map.copyOf(most);
    }

    @Override
    public void close() {
      running = false;
      thread.interrupt();
    }
  }
}
