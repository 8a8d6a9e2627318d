package dev.syllabus.worker;

import dev.syllabus.activities.ArtifactStore;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.activities.StoreBacked;
import dev.syllabus.activities.kubernetes.KubernetesConnection;
import dev.syllabus.activities.kubernetes.KubernetesPhaseActivities;
import dev.syllabus.activities.local.LocalPhaseActivities;
import dev.syllabus.activities.record.RunRecordWriter;
import dev.syllabus.workflows.CurriculumWorkflow;
import dev.syllabus.workflows.CurriculumWorkflowImpl;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.PhaseWorkflowImpl;
import dev.syllabus.workflows.record.RecordActivities;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The worker: polls the task queue and runs both workflows and the phase activities of one backend.
 * {@link #start} returns once it polls; {@link #close} stops it.
 *
 * <p>Its one extension point: the Temporal {@link WorkerInterceptor}s on the classpath, each named
 * in a {@code META-INF/services/io.temporal.common.interceptors.WorkerInterceptor} file, run around
 * its workflows and activities (the testkit's {@code SYLLABUS_HOLD} is one). The {@code syllabus}
 * jar has none of its own.
 */
public final class SyllabusWorker implements AutoCloseable {

  private final WorkerFactory factory;

  private SyllabusWorker(WorkerFactory factory) {
    this.factory = factory;
  }

  /**
   * Starts a worker with the interceptors on the classpath.
   *
   * @throws ExtensionFailed when one of them cannot be created (its configuration is wrong)
   */
  public static SyllabusWorker start(
      Temporal temporal, PhaseActivities backend, String taskQueue, WorkerCapacity capacity) {
    WorkerFactory factory =
        WorkerFactory.newInstance(
            temporal.client(),
            capacity.factoryOptions(
                WorkerFactoryOptions.newBuilder().setWorkerInterceptors(interceptors()).build()));
    Worker worker = factory.newWorker(taskQueue, capacity.workerOptions());
    worker.registerWorkflowImplementationTypes(
        CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class);
    worker.registerActivitiesImplementations(backend, records(backend));
    factory.start();
    return new SyllabusWorker(factory);
  }

  public static SyllabusWorker start(Temporal temporal, PhaseActivities backend) {
    return start(temporal, backend, CurriculumWorkflow.TASK_QUEUE, WorkerCapacity.DEFAULT);
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

  /**
   * What writes the runs' records: into {@code backend}'s artifact store, where the runs' artifacts
   * are.
   */
  public static RecordActivities records(PhaseActivities backend) {
    if (!(backend instanceof StoreBacked stored)) {
      throw new IllegalArgumentException(
          backend.getClass().getName() + " keeps no artifact store for the runs' records");
    }
    return new RunRecordWriter(stored.store(), stored.backendName(), version());
  }

  /** This worker's version: the jar's, or "dev" when run from classes. */
  public static String version() {
    String v = SyllabusWorker.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** The interceptors the classpath names, each created now. */
  private static WorkerInterceptor[] interceptors() {
    List<WorkerInterceptor> found = new ArrayList<>();
    try {
      ServiceLoader.load(WorkerInterceptor.class).forEach(found::add);
    } catch (ServiceConfigurationError e) {
      Throwable why = e.getCause() != null ? e.getCause() : e;
      throw new ExtensionFailed("a worker extension failed to start: " + why.getMessage(), e);
    }
    return found.toArray(WorkerInterceptor[]::new);
  }

  /** An interceptor on the classpath could not be created; its message says why, in one line. */
  public static final class ExtensionFailed extends RuntimeException {
    ExtensionFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  @Override
  public void close() {
    factory.shutdown();
    factory.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
  }
}
