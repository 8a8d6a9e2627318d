package dev.syllabus.workflows;

import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.record.RecordActivities;
import dev.syllabus.workflows.record.RecordUpdate;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Runs on Temporal's test server with the run and phase workflows registered and a {@link
 * FakeBackend} standing in for jobs: what the workflow tests start runs on.
 */
final class TestRuns implements AutoCloseable {
  private final TestWorkflowEnvironment env;
  private final WorkflowClient client;
  private final FakeBackend backend;
  private final KeptRecords records = new KeptRecords();

  /** Keeps the record updates the runs send, as a worker would write them. */
  static final class KeptRecords implements RecordActivities {
    final List<RecordUpdate> updates = new ArrayList<>();

    @Override
    public void writeRecord(RecordUpdate update) {
      synchronized (updates) {
        updates.add(update);
      }
    }
  }

  TestRuns() {
    this(TestEnvironmentOptions.getDefaultInstance());
  }

  /** With {@code options}: a metrics scope, say. */
  TestRuns(TestEnvironmentOptions options) {
    env = TestWorkflowEnvironment.newInstance(options);
    for (SearchKeys.Definition d : SearchKeys.ALL) {
      env.registerSearchAttribute(d.name(), d.type());
    }
    backend = new FakeBackend(50);
    Worker worker = env.newWorker(CurriculumWorkflow.TASK_QUEUE);
    worker.registerWorkflowImplementationTypes(
        CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    worker.registerActivitiesImplementations(backend, records);
    env.start();
    client = env.getWorkflowClient();
  }

  WorkflowClient client() {
    return client;
  }

  /** The record updates the runs sent, in the order they came. */
  List<RecordUpdate> recordUpdates() {
    synchronized (records.updates) {
      return List.copyOf(records.updates);
    }
  }

  FakeBackend backend() {
    return backend;
  }

  TestWorkflowEnvironment env() {
    return env;
  }

  /** Three phases of 1000 steps each on the tiny framework: easy, medium, hard. */
  static Recipe demo() {
    return Recipe.builder("demo")
        .totalSteps(3000)
        .phase(
            Phase.builder("easy")
                .until(1.0 / 3)
                .framework("tiny", "train")
                .data(DataSpec.of("synthetic:waves-easy")))
        .phase(
            Phase.builder("medium")
                .until(2.0 / 3)
                .framework("tiny", "train")
                .optimizer(new OptimizerSpec(null, 0.01, OptimizerState.CARRY)))
        .phase(
            Phase.builder("hard")
                .until(1.0)
                .framework("tiny", "train")
                .data(DataSpec.of("synthetic:waves-hard")))
        .build();
  }

  CurriculumWorkflow start(String id, Recipe recipe, RunSettings settings) {
    CurriculumWorkflow run =
        client.newWorkflowStub(
            CurriculumWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(id)
                .setTaskQueue(CurriculumWorkflow.TASK_QUEUE)
                .build());
    WorkflowClient.start(run::run, new RunInput(recipe, settings, null));
    return run;
  }

  RunStatus finish(String id) {
    return WorkflowStub.fromTyped(client.newWorkflowStub(CurriculumWorkflow.class, id))
        .getResult(RunStatus.class);
  }

  RunStatus status(String id) {
    return client.newWorkflowStub(CurriculumWorkflow.class, id).status();
  }

  /** Waits until {@code condition} holds, for a generous while: a busy machine only slows it. */
  static void eventually(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  /** Waits until phase {@code phase}'s job is held at {@code step} ({@link FakeBackend#holdAt}). */
  void awaitHeldAt(String phase, long step) {
    eventually(
        phase + " reaches step " + step,
        () -> {
          FakeBackend.Job job = backend.job(phase);
          return job != null && job.step == step;
        });
  }

  @Override
  public void close() {
    env.close();
  }
}
