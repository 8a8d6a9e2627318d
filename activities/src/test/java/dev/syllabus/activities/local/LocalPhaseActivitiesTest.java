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
    env.registerActivitiesImplementations(
        new LocalPhaseActivities(
            new Renderer(new Kubeconfigs(repo.resolve("kubeconfigs"))),
            new ArtifactStore(store),
            repo));
    activities =
        env.newActivityStub(
            PhaseActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());
  }

  @AfterEach
  void tearDown() {
    env.close();
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
    JobSnapshot seen = from;
    while (!seen.state().hasEnded()) {
      seen = activities.followJob(rendered.job(), seen, 200);
    }
    return seen;
  }

  @Test
  void aJobRunsToItsLastStepAndIsCollected() {
    PhaseTask task = task("tiny", 60);
    RenderedPhase rendered = activities.render(task, 1);
    JobSnapshot end = followToTheEnd(rendered, activities.startJob(rendered));

    assertEquals(JobState.SUCCEEDED, end.state());
    assertEquals(60, end.step());
    assertEquals(60L, end.checkpointStep());
    assertNotNull(end.evalLoss());
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
    long pid =
        Long.parseLong(
            Files.readString(store.resolve("run/0-p/jobs/run-0-p-1/pid")).split("\\s+")[0]);
    String[] stat =
        Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll(".*\\) ", "").split(" ");
    assertEquals(Long.toString(pid), stat[3], "session id = pid");
    assertTrue(
        Files.readString(Path.of("/proc/" + pid + "/cmdline")).contains("tiny_trainer.py"),
        "the pid is the trainer's own, not a wrapper's");
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
    while (seen.step() < 30) {
      seen = activities.followJob(rendered.job(), seen, 100);
    }
    activities.stopJob(rendered.job(), "pause");
    JobSnapshot stopped = followToTheEnd(rendered, seen);
    assertEquals(JobState.STOPPED, stopped.state());
    long at = stopped.checkpointStep();

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
}
