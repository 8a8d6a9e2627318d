package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import dev.syllabus.workflows.PhaseMetrics.Doing;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import io.temporal.testing.TestEnvironmentOptions;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What runs show to Prometheus ({@link PhaseMetrics}), on Temporal's test server with {@link
 * FakeBackend}, its metrics scope reporting into an in-memory registry; and the pure parts.
 */
@Timeout(60)
class PhaseMetricsTest {

  private static final RunSettings FAST = new RunSettings(50, 0);

  private SimpleMeterRegistry registry;
  private Scope scope;
  private TestRuns runs;
  private FakeBackend backend;

  @BeforeEach
  void setUp() {
    registry = new SimpleMeterRegistry();
    scope =
        new RootScopeBuilder()
            .reporter(new MicrometerClientStatsReporter(registry))
            .reportEvery(com.uber.m3.util.Duration.ofMillis(10));
    runs = new TestRuns(TestEnvironmentOptions.newBuilder().setMetricsScope(scope).build());
    backend = runs.backend();
  }

  @AfterEach
  void tearDown() throws Exception {
    runs.close();
    scope.close();
  }

  @Test
  void aRunShowsEveryPhasesFinalStateAndOneHandoffForEachPhaseAfterTheFirst() {
    start("m1");
    finish("m1");

    awaitGauge(PhaseMetrics.RUN_STATE, 1, "run", "m1", "state", "COMPLETED");
    assertEquals(0, gauge(PhaseMetrics.RUN_STATE, "run", "m1", "state", "RUNNING"));
    for (String phase : List.of("easy", "medium", "hard")) {
      awaitGauge(PhaseMetrics.PHASE_STATE, 1, "run", "m1", "phase", phase, "state", "COMPLETED");
      for (PhaseState other : PhaseState.values()) {
        if (other != PhaseState.COMPLETED) {
          assertEquals(
              0,
              gauge(PhaseMetrics.PHASE_STATE, "run", "m1", "phase", phase, "state", other.name()),
              phase + " " + other);
        }
      }
    }
    assertEquals(0, samples(PhaseMetrics.HANDOFF_LATENCY, "phase", "easy"));
    assertEquals(1, samples(PhaseMetrics.HANDOFF_LATENCY, "phase", "medium"));
    assertEquals(1, samples(PhaseMetrics.HANDOFF_LATENCY, "phase", "hard"));
    assertEquals(0, samples(PhaseMetrics.PAUSE_LATENCY));
  }

  @Test
  void pausingARunningJobIsOnePauseLatencySample() {
    backend.holdAt("medium", 300);
    CurriculumWorkflow run = start("m2");
    eventually("medium reaches step 300", () -> jobStep("medium") == 300);

    run.pause("need the GPUs");
    eventually("medium is paused", () -> status("m2").phases().get(1).state() == PhaseState.PAUSED);
    awaitGauge(PhaseMetrics.PHASE_STATE, 1, "run", "m2", "phase", "medium", "state", "PAUSED");
    awaitGauge(PhaseMetrics.RUN_STATE, 1, "run", "m2", "state", "PAUSED");
    assertEquals(1, samples(PhaseMetrics.PAUSE_LATENCY, "phase", "medium", "recipe", "demo"));

    backend.release("medium");
    run.resume(null);
    finish("m2");
    assertEquals(1, samples(PhaseMetrics.PAUSE_LATENCY));
    assertEquals(2, samples(PhaseMetrics.HANDOFF_LATENCY), "a resume is no handoff");
  }

  @Test
  void aPhaseSkippedBeforeItStartedLeavesOneHandoffAroundIt() throws Exception {
    CountDownLatch collectEasy = backend.holdCollect("easy");
    CurriculumWorkflow run = start("m3");
    eventually("easy is being collected", () -> backend.count("collect m3-0-easy-1") == 1);
    run.pause(null);
    collectEasy.countDown();
    eventually("the run holds", () -> status("m3").phases().get(0).state() == PhaseState.COMPLETED);
    run.skip("not this time");
    eventually(
        "medium is skipped", () -> status("m3").phases().get(1).state() == PhaseState.SKIPPED);
    run.resume(null);
    RunStatus done = finish("m3");

    assertEquals(RunState.COMPLETED, done.state());
    awaitGauge(PhaseMetrics.PHASE_STATE, 1, "run", "m3", "phase", "medium", "state", "SKIPPED");
    assertEquals(0, samples(PhaseMetrics.HANDOFF_LATENCY, "phase", "medium"));
    assertEquals(1, samples(PhaseMetrics.HANDOFF_LATENCY, "phase", "hard"), "easy → hard");
  }

  // --- the pure parts -------------------------------------------------------------------------

  @Test
  void wholeSecondsAreHandedOutAsTheyCompleteAndTheFractionIsKept() {
    PhaseMetrics.WholeSeconds seconds = new PhaseMetrics.WholeSeconds();
    assertEquals(0, seconds.add(400));
    assertEquals(0, seconds.add(500));
    assertEquals(1, seconds.add(100));
    assertEquals(2, seconds.add(2_999));
    assertEquals(1, seconds.add(1));
  }

  @Test
  void aPhaseCountsAsRunningOnlyWhileItsJobRuns() {
    JobSnapshot running = snapshot(JobState.RUNNING, false);
    assertEquals(Doing.RUNNING, Doing.of(PhaseState.RUNNING, running));
    assertEquals(Doing.OTHER, Doing.of(PhaseState.RUNNING, null), "before the job started");
    assertEquals(Doing.OTHER, Doing.of(PhaseState.RUNNING, snapshot(JobState.STOPPED, false)));
    assertEquals(Doing.OTHER, Doing.of(PhaseState.RUNNING, snapshot(JobState.FAILED, false)));
    assertEquals(Doing.OTHER, Doing.of(PhaseState.COMPLETED, snapshot(JobState.SUCCEEDED, false)));
  }

  @Test
  void aPhaseIsQueuedOnlyWhileItsJobWaitsForCapacityAndPausedWhatEverItsJobSaid() {
    assertEquals(Doing.QUEUED, Doing.of(PhaseState.PENDING, snapshot(JobState.PENDING, true)));
    assertEquals(Doing.OTHER, Doing.of(PhaseState.PENDING, snapshot(JobState.PENDING, false)));
    assertEquals(
        Doing.QUEUED,
        Doing.of(PhaseState.PREEMPTED, snapshot(JobState.PREEMPTED, true)),
        "preempted, waiting to be admitted again");
    assertEquals(
        Doing.OTHER,
        Doing.of(PhaseState.PREEMPTED, snapshot(JobState.PREEMPTED, false)),
        "preempted, its trainer still saving");
    assertEquals(Doing.PAUSED, Doing.of(PhaseState.PAUSED, snapshot(JobState.STOPPED, false)));
    assertEquals(Doing.PAUSED, Doing.of(PhaseState.PAUSED, null));
  }

  @Test
  void aPhasesGpusAddUpOverItsWorkloads() {
    Phase grpo =
        Phase.builder("grpo")
            .until(1.0)
            .framework("verifiers", "grpo")
            .resources("train", WorkloadResources.gpus(6))
            .resources("vllm", WorkloadResources.gpus(2))
            .resources("rewards", new WorkloadResources(null, "4", "8Gi"))
            .build();
    assertEquals(8, grpo.gpus());
    assertEquals(0, Phase.builder("cpu").until(1.0).framework("t", "w").build().gpus());
  }

  @Test
  void aTrainerOnSeveralNodesAsksForItsGpusOnEach() {
    Phase wide =
        Phase.builder("wide")
            .until(1.0)
            .framework("verifiers", "grpo")
            .resources("train", new WorkloadResources(8, null, null, 4))
            .resources("vllm", WorkloadResources.gpus(2))
            .build();
    assertEquals(34, wide.gpus());
  }

  // --- helpers --------------------------------------------------------------------------------

  private static JobSnapshot snapshot(JobState state, boolean waitingForCapacity) {
    return new JobSnapshot(
        state, new JobProgress(0, 100, null, null, null), 0, null, null, false, waitingForCapacity);
  }

  private CurriculumWorkflow start(String id) {
    return runs.start(id, TestRuns.demo(), FAST);
  }

  private RunStatus finish(String id) {
    return runs.finish(id);
  }

  private RunStatus status(String id) {
    return runs.status(id);
  }

  private long jobStep(String phase) {
    FakeBackend.Job job = backend.job(phase);
    return job == null ? -1 : job.step;
  }

  /** The gauge's value; NaN when it has not been reported. */
  private double gauge(String name, String... tags) {
    Gauge gauge = registry.find(name).tags(tags).gauge();
    return gauge == null ? Double.NaN : gauge.value();
  }

  /** Waits for the scope's next reports (every 10 ms) until the gauge shows {@code value}. */
  private void awaitGauge(String name, double value, String... tags) {
    eventually(
        name + " " + String.join(",", tags) + " = " + value, () -> gauge(name, tags) == value);
  }

  /** How many samples the histogram has, over all its series that have {@code tags}. */
  private long samples(String name, String... tags) {
    return registry.find(name).tags(tags).timers().stream().mapToLong(Timer::count).sum();
  }

  private static void eventually(String what, BooleanSupplier condition) {
    TestRuns.eventually(what, condition);
  }
}
