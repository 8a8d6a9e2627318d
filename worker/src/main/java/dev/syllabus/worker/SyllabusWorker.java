package dev.syllabus.worker;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.kubernetes.KubernetesConnection;
import dev.syllabus.activities.kubernetes.KubernetesPhaseActivities;
import dev.syllabus.activities.local.LocalPhaseActivities;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Path;

/**
 * The worker: polls the task queue and runs both workflows and the phase activities of one backend.
 * {@link #start} returns once it polls; {@link #close} stops it.
 */
public final class SyllabusWorker implements AutoCloseable {

  private final WorkerFactory factory;

  private SyllabusWorker(WorkerFactory factory) {
    this.factory = factory;
  }

  public static SyllabusWorker start(Temporal temporal, PhaseActivities backend, String taskQueue) {
    WorkerFactory factory = WorkerFactory.newInstance(temporal.client());
    Worker worker = factory.newWorker(taskQueue);
    worker.registerWorkflowImplementationTypes(
        CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    worker.registerActivitiesImplementations(
        HeldActivities.wrap(backend, System.getenv(HeldActivities.VARIABLE)));
    factory.start();
    return new SyllabusWorker(factory);
  }

  public static SyllabusWorker start(Temporal temporal, PhaseActivities backend) {
    return start(temporal, backend, CurriculumWorkflow.TASK_QUEUE);
  }

  /**
   * The {@code local} backend: jobs as local processes, artifacts under {@code
   * $SYLLABUS_HOME/runs}.
   */
  public static PhaseActivities localBackend(Paths paths) {
    return new LocalPhaseActivities(
        new Renderer(new Kubeconfigs(paths.kubeconfigs())),
        new ArtifactStore(paths.runs()),
        paths.repo());
  }

  /**
   * The {@code kubernetes} backend: phases as objects in {@code connection}'s namespace; the
   * artifact store is the PVC the phases mount, as mounted on this worker at {@code artifacts}.
   */
  public static KubernetesPhaseActivities kubernetesBackend(
      Paths paths, KubernetesConnection connection, Path artifacts) {
    return new KubernetesPhaseActivities(
        new Renderer(new Kubeconfigs(paths.kubeconfigs())),
        new ArtifactStore(artifacts),
        connection.client(),
        connection.namespace());
  }

  @Override
  public void close() {
    factory.shutdown();
    factory.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
  }
}
