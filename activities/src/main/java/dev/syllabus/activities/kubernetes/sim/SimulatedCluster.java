package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kubernetes cluster for tests: fabric8's mock API server in CRUD mode, plus what a real
 * cluster's controllers and its one GPU node would do with what is stored there. Jobs get pods,
 * pods get scheduled against the node's {@code nvidia.com/gpu}, run a simulated trainer or server,
 * log, write checkpoints into the artifacts folder, end; Deployments get ReplicaSets and pods,
 * Services get EndpointSlices, queued Jobs get Kueue Workloads. Status is written back the way the
 * real controllers spell it, so code under test sees what it would see on a cluster.
 *
 * <pre>{@code
 * try (SimulatedCluster cluster = SimulatedCluster.start("ml", artifactsDir)) {
 *   KubernetesClient client = cluster.client();
 *   client.batch().v1().jobs().resource(job).create();
 *   cluster.await(() -> complete(client, "train"), Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * <p>Clients talk to the cluster through a small front server that counts their requests ({@link
 * #requests()}), serves pod logs (which the mock server does not) and can break watches and log
 * streams on purpose. The simulator itself talks to the mock server directly and is never counted.
 * All simulated work runs on one thread, so the cluster moves one step at a time.
 */
public final class SimulatedCluster implements AutoCloseable {
  /** Kueue's Workloads, for {@code client.genericKubernetesResources(WORKLOADS)}. */
  public static final ResourceDefinitionContext WORKLOADS = Kueue.WORKLOADS;

  private static final Logger LOG = LoggerFactory.getLogger(SimulatedCluster.class);

  /** The mock web server logs every request at INFO through java.util.logging: too much. */
  private static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver.MockWebServer");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  private final String namespace;
  private final Path artifactsDir;
  private final Path scratch;
  private final Settings settings = new Settings();
  private final KubernetesMockServer server;
  private final KubernetesClient control;
  private final ApiFront front;
  private final KubernetesClient client;
  private final ScheduledExecutorService clock;
  private final AtomicBoolean passQueued = new AtomicBoolean();
  private final List<Watch> watches = new CopyOnWriteArrayList<>();
  private final GarbageCollector garbageCollector;
  private final Kueue kueue;
  private final JobController jobs;
  private final DeploymentController deployments;
  private final Kubelet kubelet;
  private final EndpointSliceController endpointSlices;
  private volatile boolean closed;
  private volatile long lastEvent = System.nanoTime();

  private SimulatedCluster(String namespace, Path artifactsDir) throws IOException {
    this.namespace = namespace;
    this.artifactsDir = artifactsDir;
    Files.createDirectories(artifactsDir);
    this.scratch = Files.createTempDirectory("simulated-cluster-");
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    this.server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.start();
    // Status is a subresource of these, as on a real API server: writes to the object keep it.
    for (String[] r :
        List.of(
            new String[] {"batch", "v1", "jobs", "Job"},
            new String[] {"apps", "v1", "deployments", "Deployment"},
            new String[] {"apps", "v1", "replicasets", "ReplicaSet"},
            new String[] {"kueue.x-k8s.io", "v1beta1", "workloads", "Workload"})) {
      server.expectCustomResource(
          new CustomResourceDefinitionContext.Builder()
              .withGroup(r[0])
              .withVersion(r[1])
              .withPlural(r[2])
              .withKind(r[3])
              .withScope("Namespaced")
              .withStatusSubresource(true)
              .build());
    }
    this.control = newClient("http://127.0.0.1:" + server.getPort() + "/", namespace);
    this.clock =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "simulated-cluster");
              t.setDaemon(true);
              return t;
            });
    this.garbageCollector = new GarbageCollector(control);
    this.kueue = new Kueue(control, settings);
    this.jobs = new JobController(control, settings);
    this.deployments = new DeploymentController(control);
    this.kubelet = new Kubelet(control, settings, clock, this::wake, artifactsDir, scratch);
    this.endpointSlices = new EndpointSliceController(control);
    this.front = new ApiFront("127.0.0.1", server.getPort(), kubelet, this::deleted);
    this.client = newClient(front.url(), namespace);
    seed();
    watchEverything();
    clock.scheduleWithFixedDelay(this::wake, 1, 1, TimeUnit.SECONDS);
  }

  /**
   * Starts a cluster whose default namespace is {@code namespace} (created, with a bound
   * PersistentVolumeClaim {@code syllabus-artifacts}), and whose artifacts volume is the host
   * folder {@code artifactsDir}.
   */
  public static SimulatedCluster start(String namespace, Path artifactsDir) {
    try {
      return new SimulatedCluster(namespace, artifactsDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A client of the cluster, namespace {@link #namespace()} by default; its requests count. */
  public KubernetesClient client() {
    return client;
  }

  /** Another client of the cluster (the caller closes it); its requests count too. */
  public KubernetesClient newClient() {
    return newClient(front.url(), namespace);
  }

  /**
   * The mock API server behind the cluster, for expectations that inject failures ({@code
   * server().expect().post().withPath(...).andReturn(500, ...).once()}): they apply to the
   * simulator's own requests as well. Requests made straight to it are not counted.
   */
  public KubernetesMockServer server() {
    return server;
  }

  public String namespace() {
    return namespace;
  }

  /** The host folder that stands for the artifacts PVC. */
  public Path artifactsDir() {
    return artifactsDir;
  }

  // --- what the cluster is like ------------------------------------------------------------------

  /** The {@code nvidia.com/gpu} the node offers and Kueue's quota (8 by default). */
  public SimulatedCluster gpuCapacity(int gpus) {
    settings.gpuCapacity = gpus;
    wake();
    return this;
  }

  /** Pulls of this image fail: {@code ErrImagePull}, then {@code ImagePullBackOff}, in turn. */
  public SimulatedCluster unpullableImage(String image) {
    settings.unpullable.add(image);
    wake();
    return this;
  }

  /** Wall time of one simulated training step (10 ms by default), for trainers started from now. */
  public SimulatedCluster trainerSpeed(Duration perStep) {
    settings.trainerSpeed = perStep;
    return this;
  }

  /** How often the trainer saves {@code checkpoint-N} (every 10 steps by default). */
  public SimulatedCluster checkpointEvery(int steps) {
    settings.checkpointEvery = steps;
    return this;
  }

  /** How often the trainer prints a loss dict (every 5 steps) and an eval dict (every 25). */
  public SimulatedCluster logEvery(int steps, int evalSteps) {
    settings.logEvery = steps;
    settings.evalEvery = evalSteps;
    return this;
  }

  /** How long a server takes to become ready (200 ms by default). */
  public SimulatedCluster serverStartDelay(Duration delay) {
    settings.serverStartDelay = delay;
    return this;
  }

  /** How long the kubelet waits after SIGTERM before SIGKILL (300 ms; real: 30 s). */
  public SimulatedCluster gracePeriod(Duration grace) {
    settings.gracePeriod = grace;
    return this;
  }

  /**
   * Whether a pod that ends while its Job is suspended counts toward the Job's succeeded and failed
   * pods. Off by default: a suspended Job's pods stop, save and exit 0 without finishing the Job. A
   * real Kubernetes 1.31 Job controller does count them, so on a real cluster a Job with {@code
   * completions: 1} whose trainer exits 0 on SIGTERM becomes {@code Complete} when suspended; turn
   * this on to see that.
   */
  public SimulatedCluster suspendCountsStoppedPods(boolean counts) {
    settings.suspendCountsStoppedPods = counts;
    return this;
  }

  /** Containers with this image behave so (the latest rule that matches wins). */
  public SimulatedCluster behaviour(String image, Behaviour behaviour) {
    settings.rules.add(0, new Rule(null, image, behaviour));
    return this;
  }

  /** The main (first) container of pods that match behaves so (the latest rule wins). */
  public SimulatedCluster behaviour(Predicate<Pod> pods, Behaviour behaviour) {
    settings.rules.add(0, new Rule(pods, null, behaviour));
    return this;
  }

  // --- what happened
  // -------------------------------------------------------------------------------

  /** Counts of the requests clients made, by verb and resource (live; snapshot it to compare). */
  public RequestCounts requests() {
    return front.counts();
  }

  /** How many creates of this resource ({@code jobs}, {@code configmaps}, ...) got 201 Created. */
  public int createdCount(String resource) {
    return front.createdCount(resource);
  }

  /** The log of a pod's container in the default namespace, as {@code kubectl logs} shows it. */
  public String podLog(String pod) {
    return kubelet.podLog(namespace, pod, null);
  }

  public String podLog(String pod, String container) {
    return kubelet.podLog(namespace, pod, container);
  }

  // --- trouble on purpose
  // ----------------------------------------------------------------------------

  /** Drops every open {@code follow=true} log stream mid-stream; returns how many. */
  public int cutLogStreams() {
    return front.cutLogStreams();
  }

  /** How many client watches (informers' included) are open now. */
  public int openWatches() {
    return front.openWatches();
  }

  /** Ends every open watch with a 410 Gone ERROR event, so clients must list again. */
  public int expireWatches() {
    return front.expireWatches();
  }

  /** Closes every open watch without an error, as at the API server's watch timeout. */
  public int closeWatches() {
    return front.closeWatches();
  }

  // --- waiting
  // -------------------------------------------------------------------------------------

  /** Waits until the condition holds; fails with {@code AssertionError} after the timeout. */
  public void await(BooleanSupplier condition, Duration timeout) {
    awaitValue(() -> condition.getAsBoolean() ? Boolean.TRUE : null, timeout);
  }

  /** Waits until the supplier gives a value that is not null (nor false) and returns it. */
  public <T> T awaitValue(Supplier<T> value, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException last = null;
    while (true) {
      try {
        T v = value.get();
        if (v != null && !Boolean.FALSE.equals(v)) {
          return v;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        AssertionError error = new AssertionError("condition not met within " + timeout);
        if (last != null) {
          error.initCause(last);
        }
        throw error;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting", e);
      }
    }
  }

  @Override
  public void close() {
    client.close();
    closed = true;
    clock.shutdownNow();
    try {
      clock.awaitTermination(5, TimeUnit.SECONDS);
      awaitQuiet();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    watches.forEach(Watch::close);
    control.close();
    front.close();
    try {
      server.shutdown();
    } catch (IllegalStateException e) {
      LOG.warn("the mock API server did not stop cleanly", e);
    }
    try (Stream<Path> paths = Files.walk(scratch)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("could not clean {}", scratch, e);
    }
  }

  /**
   * Waits until the mock server has sent its last watch events. Its watch listener blocks an event
   * loop for up to a minute when a watch closes while an event is on its way, so watches close only
   * once nothing is written any more.
   */
  private void awaitQuiet() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (System.nanoTime() - lastEvent < TimeUnit.MILLISECONDS.toNanos(200)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  // --- the loop
  // ------------------------------------------------------------------------------------

  /** Asks for a pass of every controller; passes never overlap and requests coalesce. */
  void wake() {
    if (!closed && passQueued.compareAndSet(false, true)) {
      clock.execute(this::pass);
    }
  }

  private void pass() {
    passQueued.set(false);
    if (closed) {
      return;
    }
    try {
      garbageCollector.collect();
      kueue.sync();
      jobs.sync();
      deployments.sync();
      kubelet.sync();
      endpointSlices.sync();
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.warn("a pass of the simulated cluster failed; trying again", e);
        clock.schedule(this::wake, 100, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void seed() {
    control
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    PersistentVolumeClaim claim =
        new PersistentVolumeClaimBuilder()
            .withNewMetadata()
            .withName("syllabus-artifacts")
            .withNamespace(namespace)
            .endMetadata()
            .withNewSpec()
            .withAccessModes("ReadWriteMany")
            .withNewResources()
            .addToRequests("storage", new Quantity("1Ti"))
            .endResources()
            .endSpec()
            .withNewStatus()
            .withPhase("Bound")
            .withAccessModes("ReadWriteMany")
            .addToCapacity("storage", new Quantity("1Ti"))
            .endStatus()
            .build();
    control.persistentVolumeClaims().inNamespace(namespace).resource(claim).create();
  }

  private void watchEverything() {
    this.<Job>watch(w -> control.batch().v1().jobs().inAnyNamespace().watch(w));
    this.<Pod>watch(w -> control.pods().inAnyNamespace().watch(w));
    this.<Deployment>watch(w -> control.apps().deployments().inAnyNamespace().watch(w));
    this.<ReplicaSet>watch(w -> control.apps().replicaSets().inAnyNamespace().watch(w));
    this.<Service>watch(w -> control.services().inAnyNamespace().watch(w));
    this.<ConfigMap>watch(w -> control.configMaps().inAnyNamespace().watch(w));
    this.<Secret>watch(w -> control.secrets().inAnyNamespace().watch(w));
    this.<PersistentVolumeClaim>watch(
        w -> control.persistentVolumeClaims().inAnyNamespace().watch(w));
    this.<GenericKubernetesResource>watch(
        w -> control.genericKubernetesResources(Kueue.WORKLOADS).inAnyNamespace().watch(w));
  }

  /** A watch that wakes the loop on every event and comes back when it ends. */
  private <T> void watch(java.util.function.Function<Watcher<T>, Watch> open) {
    Watcher<T> watcher =
        new Watcher<>() {
          @Override
          public void eventReceived(Action action, T resource) {
            lastEvent = System.nanoTime();
            wake();
          }

          @Override
          public void onClose(WatcherException cause) {
            if (!closed) {
              clock.schedule(() -> watch(open), 100, TimeUnit.MILLISECONDS);
            }
          }
        };
    watches.add(open.apply(watcher));
  }

  /** A client delete came through the front: remember Orphan propagation for the collector. */
  private void deleted(ApiFront.Deletion deletion) {
    if (!"Orphan".equals(deletion.propagationPolicy()) || deletion.namespace() == null) {
      return;
    }
    var owner =
        switch (deletion.resource()) {
          case "jobs" ->
              control
                  .batch()
                  .v1()
                  .jobs()
                  .inNamespace(deletion.namespace())
                  .withName(deletion.name())
                  .get();
          case "deployments" ->
              control
                  .apps()
                  .deployments()
                  .inNamespace(deletion.namespace())
                  .withName(deletion.name())
                  .get();
          case "replicasets" ->
              control
                  .apps()
                  .replicaSets()
                  .inNamespace(deletion.namespace())
                  .withName(deletion.name())
                  .get();
          case "services" ->
              control.services().inNamespace(deletion.namespace()).withName(deletion.name()).get();
          default -> null;
        };
    if (owner != null) {
      garbageCollector.orphan(owner.getMetadata().getUid());
    }
  }

  private static KubernetesClient newClient(String url, String namespace) {
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(url)
            .withNamespace(namespace)
            .withTrustCerts(true)
            .withHttp2Disable(true)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  // --- settings
  // ------------------------------------------------------------------------------------

  private record Rule(Predicate<Pod> pods, String image, Behaviour behaviour) {}

  /** What tests may change about the cluster; read by the simulated node and programs. */
  static final class Settings {
    private volatile int gpuCapacity = 8;
    private volatile Duration trainerSpeed = Duration.ofMillis(10);
    private volatile int checkpointEvery = 10;
    private volatile int logEvery = 5;
    private volatile int evalEvery = 25;
    private volatile Duration serverStartDelay = Duration.ofMillis(200);
    private volatile Duration gracePeriod = Duration.ofMillis(300);
    private volatile boolean suspendCountsStoppedPods;
    private final Set<String> unpullable = ConcurrentHashMap.newKeySet();
    private final List<Rule> rules = new CopyOnWriteArrayList<>();

    int gpuCapacity() {
      return gpuCapacity;
    }

    Duration trainerSpeed() {
      return trainerSpeed;
    }

    int checkpointEvery() {
      return checkpointEvery;
    }

    int logEvery() {
      return logEvery;
    }

    int evalEvery() {
      return evalEvery;
    }

    Duration serverStartDelay() {
      return serverStartDelay;
    }

    Duration gracePeriod() {
      return gracePeriod;
    }

    Duration containerCreateDelay() {
      return Duration.ofMillis(20);
    }

    Duration pullBackoff() {
      return Duration.ofMillis(100);
    }

    Duration crashBackoff() {
      return Duration.ofMillis(100);
    }

    boolean suspendCountsStoppedPods() {
      return suspendCountsStoppedPods;
    }

    boolean unpullable(String image) {
      return unpullable.contains(image);
    }

    /** The behaviour of a pod's container: a matching rule, else TRAIN for Job pods, else SERVE. */
    Behaviour behaviourOf(Pod pod, Container container, int index) {
      for (Rule rule : new ArrayList<>(rules)) {
        if (rule.image() != null && rule.image().equals(container.getImage())) {
          return rule.behaviour();
        }
        if (rule.pods() != null && index == 0 && rule.pods().test(pod)) {
          return rule.behaviour();
        }
      }
      boolean jobPod = Kube.controllerUid(pod, "Job") != null;
      return jobPod && index == 0 ? Behaviour.TRAIN : Behaviour.SERVE;
    }
  }
}
