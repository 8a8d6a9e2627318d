package dev.syllabus.testbed;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.KubernetesPhaseActivities;
import dev.syllabus.activities.record.RunRecordWriter;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import dev.syllabus.workflows.RunInput;
import dev.syllabus.workflows.RunSettings;
import dev.syllabus.workflows.SearchKeys;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One test's Syllabus on the testbed: Temporal's in-process test server with the workflows' worker,
 * and a worker process's kubernetes backend acting as the namespace's ServiceAccount (so it has the
 * Role of {@code deploy/} and nothing more). The backend's worker can be stopped and started again,
 * as a worker pod that is killed and replaced.
 */
final class Backend implements AutoCloseable {
  static final Path KUBECONFIGS = Testbed.REPO.resolve("kubeconfigs");
  private static final RunSettings FAST = new RunSettings(100, 0);

  final Testbed testbed;
  final String ns;
  final Path artifacts;
  final TestWorkflowEnvironment env;
  final WorkflowClient temporal;
  private final WorkerFactory workflowWorkers;
  private WorkerFactory activityWorkers;
  private KubernetesClient workerClient;
  KubernetesPhaseActivities activities;

  Backend(String prefix, Path artifacts) {
    this.testbed = Testbed.get();
    this.artifacts = artifacts;
    this.ns = testbed.newNamespace(prefix, artifacts);
    env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder().setUseTimeskipping(false).build());
    for (SearchKeys.Definition d : SearchKeys.ALL) {
      env.registerSearchAttribute(d.name(), d.type());
    }
    env.start();
    temporal = env.getWorkflowClient();
    workflowWorkers = WorkerFactory.newInstance(temporal);
    workflowWorkers
        .newWorker(CurriculumWorkflow.TASK_QUEUE)
        .registerWorkflowImplementationTypes(CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    workflowWorkers.start();
    startWorker();
  }

  /** A worker process with the kubernetes backend: it knows nothing but what the cluster says. */
  void startWorker() {
    workerClient = testbed.workerClient(ns);
    activities =
        new KubernetesPhaseActivities(
            new Renderer(new Kubeconfigs(KUBECONFIGS)),
            new ArtifactStore(artifacts),
            workerClient,
            ns);
    activityWorkers = WorkerFactory.newInstance(temporal);
    activityWorkers
        .newWorker(CurriculumWorkflow.TASK_QUEUE)
        .registerActivitiesImplementations(
            activities, new RunRecordWriter(activities.store(), activities.backendName(), "test"));
    activityWorkers.start();
  }

  void stopWorker() {
    activityWorkers.shutdownNow();
    activityWorkers.awaitTermination(10, TimeUnit.SECONDS);
    activities.close();
    workerClient.close();
  }

  KubernetesClient kube() {
    return testbed.admin;
  }

  /** The Job {@code name} in the test's namespace, or null. */
  Job job(String name) {
    return kube().batch().v1().jobs().inNamespace(ns).withName(name).get();
  }

  /** The pods of run {@code run} that have not ended (they hold their GPUs). */
  List<Pod> livePods(String run) {
    return kube()
        .pods()
        .inNamespace(ns)
        .withLabel(Renderer.RUN_LABEL, run)
        .list()
        .getItems()
        .stream()
        .filter(
            p ->
                !"Succeeded".equals(p.getStatus().getPhase())
                    && !"Failed".equals(p.getStatus().getPhase()))
        .toList();
  }

  /** Whether a pod of run {@code run} runs. */
  boolean podRuns(String run) {
    return kube()
        .pods()
        .inNamespace(ns)
        .withLabel(Renderer.RUN_LABEL, run)
        .list()
        .getItems()
        .stream()
        .anyMatch(p -> "Running".equals(p.getStatus().getPhase()));
  }

  /** The input model the Job {@code name}'s trainer is given. */
  String inputModel(String name) {
    return job(name).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(v -> v.getName().equals("SYLLABUS_INPUT_MODEL"))
        .findFirst()
        .orElseThrow()
        .getValue();
  }

  CurriculumWorkflow start(String id, Recipe recipe) {
    CurriculumWorkflow run =
        temporal.newWorkflowStub(
            CurriculumWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(id)
                .setTaskQueue(CurriculumWorkflow.TASK_QUEUE)
                .build());
    WorkflowClient.start(run::run, new RunInput(recipe, FAST, null));
    return run;
  }

  CurriculumWorkflow run(String id) {
    return temporal.newWorkflowStub(CurriculumWorkflow.class, id);
  }

  /** The run's result, once it ends; an assertion error with its status if it takes too long. */
  RunStatus finish(String id) {
    try {
      return WorkflowStub.fromTyped(run(id)).getResult(4, TimeUnit.MINUTES, RunStatus.class);
    } catch (TimeoutException e) {
      throw new AssertionError("run " + id + " did not end within 4 minutes: " + status(id), e);
    }
  }

  RunStatus status(String id) {
    return run(id).status();
  }

  PhaseStatus phase(String id, int index) {
    return status(id).phases().get(index);
  }

  /** The innermost message of the run's failure. */
  String failure(String id) {
    try {
      finish(id);
    } catch (WorkflowFailedException e) {
      Throwable t = e;
      String message = e.getMessage();
      while (t != null) {
        message = t.getMessage();
        t = t.getCause();
      }
      return message;
    }
    throw new AssertionError("run " + id + " did not fail");
  }

  @Override
  public void close() {
    stopWorker();
    workflowWorkers.shutdownNow();
    env.close();
    testbed.deleteNamespace(ns);
  }
}
