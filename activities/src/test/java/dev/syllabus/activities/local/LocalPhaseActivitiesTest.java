package dev.syllabus.activities.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The local backend with the real tiny trainer, one activity at a time. */
@Timeout(120)
class LocalPhaseActivitiesTest {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path repo;
  @TempDir Path store;
  private TestActivityEnvironment env;
  private PhaseActivities activities;
  private final List<TestActivityEnvironment> otherWorkers = new ArrayList<>();

  /** A repository whose tiny Job fails on purpose at step 20, and one volume it cannot map. */
  @BeforeEach
  void setUp() throws Exception {
    Path job = REPO.resolve("kubeconfigs/tiny/train/training-job.yaml");
    Files.createDirectories(repo.resolve("kubeconfigs/tiny/train"));
    Files.createDirectories(repo.resolve("kubeconfigs/failing/train"));
    Files.createDirectories(repo.resolve("kubeconfigs/secretive/train"));
    Files.copy(
        REPO.resolve("kubeconfigs/tiny/framework.yaml"),
        repo.resolve("kubeconfigs/tiny/framework.yaml"));
    Files.copy(
        REPO.resolve("kubeconfigs/tiny/framework.yaml"),
        repo.resolve("kubeconfigs/failing/framework.yaml"));
    Files.copy(job, repo.resolve("kubeconfigs/tiny/train/training-job.yaml"));
    Files.writeString(
        repo.resolve("kubeconfigs/failing/train/training-job.yaml"),
        Files.readString(job)
            .replace(
                "- name: PYTHONUNBUFFERED",
                "- name: FAIL_AT_STEP\n              value: \"20\"\n            - name: PYTHONUNBUFFERED"));
    Files.writeString(
        repo.resolve("kubeconfigs/secretive/train/training-job.yaml"),
        Files.readString(job)
            .replace(
                "      volumes:\n",
                "      volumes:\n        - name: hf-token\n          secret:\n            secretName: hf\n"));
    Files.createDirectories(repo.resolve("examples"));
    Files.createSymbolicLink(repo.resolve("examples/tiny"), REPO.resolve("examples/tiny"));

    env = TestActivityEnvironment.newInstance();
    activities = worker(env);
  }

  /** The activities of a worker of their own: a new backend that knows only what is on disk. */
  private PhaseActivities worker(TestActivityEnvironment environment) {
    environment.registerActivitiesImplementations(
        new LocalPhaseActivities(
            new Renderer(new Kubeconfigs(repo.resolve("kubeconfigs"))),
            new ArtifactStore(store),
            repo));
    return environment.newActivityStub(
        PhaseActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(1))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  /** A second worker, as if the first had been restarted. */
  private PhaseActivities newWorker() {
    TestActivityEnvironment other = TestActivityEnvironment.newInstance();
    otherWorkers.add(other);
    return worker(other);
  }

  @AfterEach
  void tearDown() {
    env.close();
    otherWorkers.forEach(TestActivityEnvironment::close);
  }

  private static PhaseTask task(String framework, long steps) {
    return task(framework, steps, 0);
  }

  private static PhaseTask task(String framework, long steps, int pauseMillis) {
    Phase phase =
        Phase.builder("p")
            .until(1.0)
            .framework(framework, "train")
            .data(DataSpec.of("synthetic:waves-easy"))
            .config("logging_steps", 10)
            .config("save_steps", 10)
            .config("step_pause_ms", pauseMillis)
            .build();
    return new PhaseTask(
        "run",
        "r",
        0,
        phase,
        new StepRange(0, steps),
        steps,
        Triplet.EMPTY,
        phase.data(),
        200,
        0,
        null);
  }

  private JobSnapshot followToTheEnd(RenderedPhase rendered, JobSnapshot from) {
    return followToTheEnd(activities, rendered, from);
  }

  private static JobSnapshot followToTheEnd(
      PhaseActivities worker, RenderedPhase rendered, JobSnapshot from) {
    JobSnapshot seen = from;
    while (!seen.state().hasEnded()) {
      seen = worker.followJob(rendered.job(), seen, 200);
    }
    return seen;
  }

  private JobSnapshot followUntilCheckpoint(RenderedPhase rendered, JobSnapshot from, long step) {
    JobSnapshot seen = from;
    while (seen.progress().checkpointStep() == null || seen.progress().checkpointStep() < step) {
      seen = activities.followJob(rendered.job(), seen, 100);
    }
    return seen;
  }

  private Path jobDir() {
    return store.resolve("run/0-p/jobs/run-0-p-1");
  }

  private long wrapperPid() throws Exception {
    return Long.parseLong(Files.readString(jobDir().resolve("pid")).split("\\s+")[0]);
  }

  private static void kill(String... target) throws Exception {
    List<String> command = new ArrayList<>(List.of("kill", "-KILL", "--"));
    command.addAll(List.of(target));
    assertEquals(0, new ProcessBuilder(command).inheritIO().start().waitFor(), "kill " + command);
  }

  /** The pids of the tiny trainers running for the job, found by their command lines. */
  private List<Long> trainers() throws Exception {
    List<Long> found = new ArrayList<>();
    String marker = "SYLLABUS_LOCAL_JOB=" + jobDir().toAbsolutePath().normalize();
    try (var entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path entry : entries) {
        try {
          // A Python process running the trainer: not the wrapper shell, nor a shell that a
          // launcher such as pyenv's shim forks on its way to Python with the same arguments.
          String[] argv = Files.readString(entry.resolve("cmdline")).split("\0");
          String environ = Files.readString(entry.resolve("environ"));
          if (argv.length > 1
              && Path.of(argv[0]).getFileName().toString().startsWith("python")
              && argv[argv.length - 1].endsWith("tiny_trainer.py")
              && environ.contains(marker + "\0")) {
            found.add(Long.parseLong(entry.getFileName().toString()));
          }
        } catch (java.io.IOException e) {
          // gone meanwhile
        }
      }
    }
    return found;
  }

  private long startsInLog(String what) throws Exception {
    return Files.readString(jobDir().resolve("output.log"))
        .lines()
        .filter(l -> l.startsWith("syllabus: " + what + " run-0-p-1"))
        .count();
  }

  @Test
  void aJobRunsToItsLastStepAndIsCollected() {
    PhaseTask task = task("tiny", 60);
    RenderedPhase rendered = activities.render(task, 1);
    JobSnapshot end = followToTheEnd(rendered, activities.startJob(rendered));

    assertEquals(JobState.SUCCEEDED, end.state());
    assertEquals(60, end.progress().step());
    assertEquals(60L, end.progress().checkpointStep());
    assertNotNull(end.progress().evalLoss());
    assertEquals(
        "run/0-p/checkpoint-60", activities.collect(task, rendered.job()).output().model().path());
  }

  @Test
  void aFailingJobReportsItsExitCodeAndLastLine() {
    RenderedPhase rendered = activities.render(task("failing", 60), 1);
    JobSnapshot end = followToTheEnd(rendered, activities.startJob(rendered));

    assertEquals(JobState.FAILED, end.state());
    assertEquals(3, end.exitCode());
    assertEquals(
        "exit code 3: syllabus-tiny: FAIL_AT_STEP=20 reached; failing on purpose", end.message());
  }

  @Test
  void startingTheSameJobTwiceAdoptsTheFirst() throws Exception {
    RenderedPhase rendered = activities.render(task("tiny", 60), 1);
    activities.startJob(rendered);
    activities.startJob(rendered);
    followToTheEnd(rendered, activities.startJob(rendered));
    String log = Files.readString(store.resolve("run/0-p/jobs/run-0-p-1/output.log"));
    assertEquals(1, log.lines().filter(l -> l.startsWith("syllabus: starting")).count(), log);
  }

  @Test
  void aJobRunsInASessionOfItsOwn() throws Exception {
    assumeTrue(
        LocalPhaseActivities.SETSID != null && Files.exists(Path.of("/proc/self/stat")),
        "needs setsid and /proc");
    PhaseTask task = task("tiny", 100_000);
    RenderedPhase rendered = activities.render(task, 1);
    activities.startJob(rendered);
    long pid = wrapperPid();
    String[] stat =
        Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll(".*\\) ", "").split(" ");
    assertEquals(Long.toString(pid), stat[3], "session id = the wrapper's pid");
    long trainer = waitForOneTrainer();
    String[] trainerStat =
        Files.readString(Path.of("/proc/" + trainer + "/stat")).replaceAll(".*\\) ", "").split(" ");
    assertEquals(Long.toString(pid), trainerStat[1], "the trainer's parent is the wrapper");
    assertEquals(Long.toString(pid), trainerStat[3], "the trainer is in the wrapper's session");
    activities.teardown(rendered.job(), "test over");
    // The exit code is recorded as the process ends; let it land before the folder is removed.
    Path exit = store.resolve("run/0-p/jobs/run-0-p-1/exit");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Files.exists(exit) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @Test
  void aVolumeTheLocalBackendCannotMapIsNamed() {
    RenderedPhase rendered = activities.render(task("secretive", 10), 1);
    ActivityFailure failure =
        assertThrows(ActivityFailure.class, () -> activities.startJob(rendered));
    assertTrue(
        failure
            .getCause()
            .getMessage()
            .contains(
                "the local backend cannot map volume 'hf-token' of Job run-0-p-1; list it in the syllabus.dev/local-volumes"
                    + " annotation as hf-token=<folder>"),
        failure.getCause().getMessage());
  }

  @Test
  void stopSavesACheckpointAndResumeFinishesFromIt() throws Exception {
    PhaseTask task = task("tiny", 400, 5);
    RenderedPhase rendered = activities.render(task, 1);
    JobSnapshot seen = activities.startJob(rendered);
    while (seen.progress().step() < 30) {
      seen = activities.followJob(rendered.job(), seen, 100);
    }
    activities.stopJob(rendered.job(), "pause");
    JobSnapshot stopped = followToTheEnd(rendered, seen);
    assertEquals(JobState.STOPPED, stopped.state());
    long at = stopped.progress().checkpointStep();

    JobSnapshot end = followToTheEnd(rendered, activities.resumeJob(rendered.job()));
    assertEquals(JobState.SUCCEEDED, end.state());
    String log = Files.readString(store.resolve("run/0-p/jobs/run-0-p-1/output.log"));
    assertTrue(
        log.contains(
            "resumed from "
                + store.resolve("run/0-p/checkpoint-" + at)
                + " at step "
                + at
                + "/400"),
        log);
  }

  private long waitForOneTrainer() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    List<Long> found = trainers();
    while (found.size() != 1 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      found = trainers();
    }
    assertEquals(1, found.size(), "trainers running: " + found);
    return found.get(0);
  }

  @Test
  void aNewWorkerFollowsAJobTheOldOneStarted() throws Exception {
    RenderedPhase rendered = activities.render(task("tiny", 300, 20), 1);
    JobSnapshot seen = followUntilCheckpoint(rendered, activities.startJob(rendered), 20);
    env.close(); // the first worker is gone; its job runs on

    PhaseActivities next = newWorker();
    JobSnapshot adopted = next.startJob(rendered); // a retried submit adopts
    JobSnapshot end = followToTheEnd(next, rendered, adopted);

    assertEquals(JobState.SUCCEEDED, end.state(), end.message());
    assertEquals(300L, end.progress().checkpointStep());
    assertTrue(seen.progress().step() >= 20);
    assertEquals(1, startsInLog("starting"), "started once");
    assertEquals(0, startsInLog("restarting"), "never restarted");
  }

  @Test
  void aJobThatEndedWhileNoWorkerWatchedIsReadFromItsExitFile() throws Exception {
    RenderedPhase rendered = activities.render(task("tiny", 60), 1);
    activities.startJob(rendered);
    env.close();
    Path exit = jobDir().resolve("exit");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.exists(exit) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals("0", Files.readString(exit).trim(), "the wrapper recorded the exit code");

    PhaseActivities next = newWorker();
    JobSnapshot end =
        followToTheEnd(
            next, rendered, JobSnapshot.of(JobState.RUNNING, JobProgress.none(60), 0, null, null));
    assertEquals(JobState.SUCCEEDED, end.state(), end.message());
    assertEquals(60, end.progress().step());
    assertNotNull(end.progress().evalLoss(), "progress read from the log it left");
  }

  @Test
  void aJobKilledWhileNoWorkerWatchedStartsAgainFromItsCheckpoint() throws Exception {
    assumeTrue(LocalPhaseActivities.SETSID != null, "needs setsid");
    RenderedPhase rendered = activities.render(task("tiny", 300, 20), 1);
    JobSnapshot seen = followUntilCheckpoint(rendered, activities.startJob(rendered), 30);
    env.close();
    kill("-" + wrapperPid()); // the job's whole session: wrapper and trainer, no exit code left
    long killedAt = seen.progress().checkpointStep();

    PhaseActivities next = newWorker();
    JobSnapshot end = followToTheEnd(next, rendered, seen);

    assertEquals(JobState.SUCCEEDED, end.state(), end.message());
    assertEquals(300L, end.progress().checkpointStep());
    assertEquals(1, startsInLog("restarting"));
    String log = Files.readString(jobDir().resolve("output.log"));
    int restart = log.indexOf("syllabus: restarting");
    assertTrue(
        log.substring(restart).contains("resumed from " + store.resolve("run/0-p/checkpoint-")),
        log);
    String resumedAt =
        log.substring(restart).replaceAll("(?s).*?resumed from \\S+ at step (\\d+)/300.*", "$1");
    assertTrue(Long.parseLong(resumedAt) >= killedAt, "resumed at " + resumedAt);
  }

  @Test
  void aTrainerWhoseWrapperWasKilledIsStoppedBeforeAnotherStarts() throws Exception {
    assumeTrue(Files.exists(Path.of("/proc/self/environ")), "needs /proc");
    RenderedPhase rendered = activities.render(task("tiny", 300, 20), 1);
    JobSnapshot seen = followUntilCheckpoint(rendered, activities.startJob(rendered), 20);
    env.close();
    long orphan = waitForOneTrainer();
    kill(Long.toString(wrapperPid())); // only the wrapper: its trainer runs on, unwatched

    PhaseActivities next = newWorker();
    JobSnapshot after = next.followJob(rendered.job(), seen, 200);

    assertEquals(JobState.RUNNING, after.state(), after.message());
    assertTrue(ProcessHandle.of(orphan).map(p -> !p.isAlive()).orElse(true), "orphan stopped");
    long restarted = waitForOneTrainer();
    assertTrue(restarted != orphan);
    JobSnapshot end = followToTheEnd(next, rendered, after);
    assertEquals(JobState.SUCCEEDED, end.state(), end.message());
  }
}
