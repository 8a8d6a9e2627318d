package dev.syllabus.testbed;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The testbed's container runtime: what the kubelets of kwok's fake nodes would do if they ran
 * containers. kwok shows nodes and moves pods through their states; the player runs each scheduled
 * pod's main container as a local process ({@link Images} says how) and tells kwok, through the
 * pod's annotations, what a kubelet would report:
 *
 * <ul>
 *   <li>{@value #STARTED}: the program runs and its log exists (kwok: Running);
 *   <li>{@value #READY} {@code "true"}: at start for a container without probes, else when the
 *       program prints that its application started (kwok: Ready);
 *   <li>{@value #WAITING_REASON} and {@value #WAITING_MESSAGE}: it cannot start ({@code
 *       ImagePullBackOff}, {@code CreateContainerConfigError}); tried again every second while the
 *       cause can go away;
 *   <li>{@value #EXIT_CODE} and {@value #TERMINATED_REASON}: it exited (kwok: Succeeded or Failed,
 *       so the real Job controller decides Complete or Failed).
 * </ul>
 *
 * <p>Deleting a pod sends its program SIGTERM and, after the pod's grace period, SIGKILL. Output
 * goes to a CRI log file that a kwok {@code Logs} object (owned by the pod) names, so {@code
 * kubectl logs} and the worker read it through the API server.
 *
 * <p>Usage: {@code java -jar syllabus-testbed.jar --kubeconfig FILE --work DIR [--step-seconds S]
 * [--server-start-seconds S]}. It writes {@code DIR/ready} once it follows the pods.
 */
public final class Player implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Player.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String STARTED = "syllabus.dev/started";
  static final String READY = "syllabus.dev/ready";
  static final String WAITING_REASON = "syllabus.dev/waiting-reason";
  static final String WAITING_MESSAGE = "syllabus.dev/waiting-message";
  static final String EXIT_CODE = "syllabus.dev/exit-code";
  static final String TERMINATED_REASON = "syllabus.dev/terminated-reason";

  /** What a server prints when it would answer its readiness probe (uvicorn, vLLM). */
  static final String READY_LINE = "Application startup complete";

  private static final ResourceDefinitionContext KWOK_LOGS =
      new ResourceDefinitionContext.Builder()
          .withGroup("kwok.x-k8s.io")
          .withVersion("v1alpha1")
          .withKind("Logs")
          .withPlural("logs")
          .withNamespaced(true)
          .build();

  private final KubernetesClient api;
  private final Path work;
  private final Map<String, String> nodeEnv;
  private final Path standIn;

  /** The node's one thread: every pod decision is made here, in order. */
  private final ScheduledExecutorService node =
      Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "node"));

  private final ScheduledExecutorService clock =
      Executors.newScheduledThreadPool(1, r -> daemon(r, "clock"));

  private final Map<String, PodRun> pods = new HashMap<>();
  private SharedIndexInformer<Pod> informer;

  /** A pod this player has taken on: its program, once it runs. */
  private static final class PodRun {
    final String namespace;
    final String name;
    ContainerRun run;
    boolean ready;
    boolean exited;
    String waiting;

    PodRun(Pod pod) {
      this.namespace = pod.getMetadata().getNamespace();
      this.name = pod.getMetadata().getName();
    }

    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }

  Player(KubernetesClient api, Path work, double stepSeconds, double serverStartSeconds) {
    this.api = api;
    this.work = work;
    this.nodeEnv = new LinkedHashMap<>();
    nodeEnv.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
    nodeEnv.put("LANG", "C.UTF-8");
    nodeEnv.put("PYTHONDONTWRITEBYTECODE", "1");
    nodeEnv.put("STANDIN_STEP_SECONDS", Double.toString(stepSeconds));
    nodeEnv.put("STANDIN_SERVER_START_SECONDS", Double.toString(serverStartSeconds));
    try {
      Files.createDirectories(work);
      standIn = work.resolve("standin.py");
      try (InputStream in = Player.class.getResourceAsStream("standin.py")) {
        Files.write(standIn, in.readAllBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void main(String[] args) throws Exception {
    String kubeconfig = null;
    Path work = null;
    double stepSeconds = 0.05;
    double serverStartSeconds = 1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--kubeconfig" -> kubeconfig = args[++i];
        case "--work" -> work = Path.of(args[++i]);
        case "--step-seconds" -> stepSeconds = Double.parseDouble(args[++i]);
        case "--server-start-seconds" -> serverStartSeconds = Double.parseDouble(args[++i]);
        default -> {
          System.err.println(
              "usage: player --kubeconfig FILE --work DIR [--step-seconds S]"
                  + " [--server-start-seconds S]");
          System.exit(2);
        }
      }
    }
    if (kubeconfig == null || work == null) {
      System.err.println("player: --kubeconfig and --work are required");
      System.exit(2);
    }
    Config config = Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)));
    KubernetesClient api = new KubernetesClientBuilder().withConfig(config).build();
    Player player = new Player(api, work, stepSeconds, serverStartSeconds);
    Runtime.getRuntime().addShutdownHook(new Thread(player::close));
    player.start();
    Files.writeString(work.resolve("ready"), "");
    log.info("following the pods of the testbed's nodes");
    Thread.currentThread().join();
  }

  void start() {
    informer =
        api.pods()
            .inAnyNamespace()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    node.execute(() -> reconcile(pod));
                  }

                  @Override
                  public void onUpdate(Pod before, Pod pod) {
                    node.execute(() -> reconcile(pod));
                  }

                  @Override
                  public void onDelete(Pod pod, boolean unknownFinalState) {
                    node.execute(() -> forget(pod));
                  }
                },
                0);
  }

  /** Brings the node's side of one pod up to date with what the API server says of it. */
  private void reconcile(Pod pod) {
    if (pod.getSpec().getNodeName() == null) {
      return; // not scheduled: not this node's business yet
    }
    String uid = pod.getMetadata().getUid();
    PodRun state = pods.get(uid);
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      if (state != null && state.run != null && state.run.alive()) {
        Long grace = pod.getMetadata().getDeletionGracePeriodSeconds();
        state.run.terminate(grace == null ? 30 : grace, clock);
      }
      return;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return;
    }
    if (state != null) {
      return;
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    if (annotations != null
        && (annotations.containsKey(STARTED) || annotations.containsKey(EXIT_CODE))) {
      // Started by an earlier player whose processes are gone with it.
      log.warn(
          "{}/{}: started by an earlier player; reporting it killed",
          pod.getMetadata().getNamespace(),
          pod.getMetadata().getName());
      PodRun lost = new PodRun(pod);
      pods.put(uid, lost);
      annotate(lost, Map.of(EXIT_CODE, "137", TERMINATED_REASON, "ContainerStatusUnknown"));
      return;
    }
    state = new PodRun(pod);
    pods.put(uid, state);
    start(pod, state);
  }

  private void start(Pod pod, PodRun state) {
    Container main = PodLaunch.mainContainer(pod);
    String image = main.getImage();
    List<String> standInCommand = null;
    switch (Images.of(image)) {
      case INVALID -> {
        waiting(
            state,
            "InvalidImageName",
            "Failed to apply default image tag \""
                + image
                + "\": couldn't parse image name \""
                + image
                + "\": invalid reference format");
        return;
      }
      case CANNOT_PULL -> {
        waiting(state, "ImagePullBackOff", "Back-off pulling image \"" + image + "\"");
        return; // as in a registry without it: it will not appear by waiting
      }
      case STAND_IN -> {
        Map<String, String> labels = pod.getMetadata().getLabels();
        boolean trainer = labels != null && "train".equals(labels.get("syllabus.dev/role"));
        standInCommand =
            List.of("python3", "-u", standIn.toString(), trainer ? "trainer" : "server");
      }
      case COMMAND -> {}
    }
    Path podDir = work.resolve("pods").resolve(pod.getMetadata().getUid());
    PodLaunch launch;
    try {
      launch = PodLaunch.of(api, pod, podDir, standInCommand);
    } catch (PodLaunch.CannotCreate e) {
      waiting(state, e.reason, e.getMessage());
      retry(pod, state);
      return;
    } catch (PodLaunch.NotYet e) {
      log.info("{}: ContainerCreating: {}", state, e.getMessage());
      retry(pod, state);
      return;
    } catch (KubernetesClientException e) {
      log.warn("{}: cannot read what it needs: {}", state, e.getMessage());
      retry(pod, state);
      return;
    }
    Path logFile =
        work.resolve("logs")
            .resolve(state.namespace)
            .resolve(state.name)
            .resolve(main.getName() + ".log");
    try {
      Files.createDirectories(logFile.getParent());
      Files.writeString(logFile, "");
      createLogs(pod, logFile);
      boolean probed = main.getReadinessProbe() != null || main.getStartupProbe() != null;
      state.run =
          ContainerRun.start(
              state.toString(),
              launch,
              nodeEnv,
              logFile,
              clock,
              line -> {
                if (probed && line.contains(READY_LINE)) {
                  node.execute(() -> becameReady(state));
                }
              },
              exit -> node.execute(() -> exited(state, exit)));
      Map<String, String> started = new LinkedHashMap<>();
      started.put(STARTED, "true");
      if (!probed) {
        started.put(READY, "true");
        state.ready = true;
      }
      if (state.waiting != null) {
        started.put(WAITING_REASON, null);
        started.put(WAITING_MESSAGE, null);
        state.waiting = null;
      }
      annotate(state, started);
      log.info("{}: started {}", state, launch.command());
    } catch (IOException | KubernetesClientException e) {
      log.warn("{}: cannot start: {}", state, e.getMessage());
      waiting(state, "RunContainerError", String.valueOf(e.getMessage()));
    }
  }

  /** The kubelet tries again: forget the pod for a second, then look at it afresh. */
  private void retry(Pod pod, PodRun state) {
    String uid = pod.getMetadata().getUid();
    node.schedule(
        () -> {
          if (pods.get(uid) != state) {
            return;
          }
          pods.remove(uid);
          Pod now = api.pods().inNamespace(state.namespace).withName(state.name).get();
          if (now != null && uid.equals(now.getMetadata().getUid())) {
            PodRun again = new PodRun(now);
            again.waiting = state.waiting;
            pods.put(uid, again);
            if (now.getMetadata().getDeletionTimestamp() == null) {
              start(now, again);
            }
          }
        },
        1,
        TimeUnit.SECONDS);
  }

  private void waiting(PodRun state, String reason, String message) {
    if (reason.equals(state.waiting)) {
      return;
    }
    state.waiting = reason;
    log.info("{}: {}: {}", state, reason, message);
    annotate(state, Map.of(WAITING_REASON, reason, WAITING_MESSAGE, message));
  }

  private void becameReady(PodRun state) {
    if (state.ready || state.exited) {
      return;
    }
    state.ready = true;
    annotate(state, Map.of(READY, "true"));
  }

  private void exited(PodRun state, ContainerRun.Exit exit) {
    state.exited = true;
    log.info(
        "{}: exited {}{}", state, exit.code(), exit.reason() == null ? "" : " " + exit.reason());
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(EXIT_CODE, Integer.toString(exit.code()));
    if (exit.reason() != null) {
      annotations.put(TERMINATED_REASON, exit.reason());
    }
    annotate(state, annotations);
  }

  private void forget(Pod pod) {
    PodRun state = pods.remove(pod.getMetadata().getUid());
    if (state != null && state.run != null && state.run.alive()) {
      log.info("{}: deleted while its program still ran; SIGKILL", state);
      state.run.kill();
    }
  }

  /** A kwok Logs object named like the pod: the API server's pods/log reads this file. */
  private void createLogs(Pod pod, Path logFile) {
    GenericKubernetesResource logs =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("kwok.x-k8s.io/v1alpha1")
            .withKind("Logs")
            .withNewMetadata()
            .withName(pod.getMetadata().getName())
            .withNamespace(pod.getMetadata().getNamespace())
            .addNewOwnerReference()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .endOwnerReference()
            .endMetadata()
            .addToAdditionalProperties(
                "spec", Map.of("logs", List.of(Map.of("logsFile", logFile.toString()))))
            .build();
    var resource =
        api.genericKubernetesResources(KWOK_LOGS)
            .inNamespace(pod.getMetadata().getNamespace())
            .resource(logs);
    try {
      resource.create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      resource.update();
    }
  }

  private void annotate(PodRun state, Map<String, String> annotations) {
    try {
      Map<String, Object> patch = Map.of("metadata", Map.of("annotations", annotations));
      api.pods()
          .inNamespace(state.namespace)
          .withName(state.name)
          .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(patch));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        log.warn("{}: cannot annotate {}: {}", state, annotations, e.getMessage());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    for (PodRun state : List.copyOf(pods.values())) {
      if (state.run != null && state.run.alive()) {
        state.run.kill();
      }
    }
    node.shutdownNow();
    clock.shutdownNow();
    api.close();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
