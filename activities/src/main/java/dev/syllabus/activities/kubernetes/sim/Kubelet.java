package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateTerminatedBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The scheduler and the kubelet of the simulated cluster's one node. The scheduler binds pending
 * pods while their {@code nvidia.com/gpu} fits the node and marks the rest {@code Unschedulable}.
 * The kubelet runs each bound pod's containers as {@link ContainerProcess}es and writes the pod
 * status a real kubelet would: waiting reasons ({@code ContainerCreating}, {@code ErrImagePull},
 * {@code ImagePullBackOff}, {@code InvalidImageName}, {@code CreateContainerConfigError}, {@code
 * CrashLoopBackOff}), running, terminated ({@code Completed}, {@code Error}, {@code OOMKilled}),
 * restarts, conditions, IPs. It keeps the containers' logs and serves them to the API front.
 *
 * <p>Everything but {@link #find} runs on the cluster's clock thread.
 */
final class Kubelet implements ApiFront.LogSource {
  private static final Pattern IMAGE =
      Pattern.compile(
          "^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]|__|-*[a-z0-9]+)*)*(:[\\w][\\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)");

  private final KubernetesClient api;
  private final SimulatedCluster.Settings settings;
  private final ScheduledExecutorService clock;
  private final Runnable wake;
  private final Path artifactsDir;
  private final Path scratch;
  private final Map<String, PodRun> runs = new HashMap<>();
  private final Map<String, PodLogs> logs = new ConcurrentHashMap<>();
  private int nextIp = 2;

  Kubelet(
      KubernetesClient api,
      SimulatedCluster.Settings settings,
      ScheduledExecutorService clock,
      Runnable wake,
      Path artifactsDir,
      Path scratch) {
    this.api = api;
    this.settings = settings;
    this.clock = clock;
    this.wake = wake;
    this.artifactsDir = artifactsDir;
    this.scratch = scratch;
  }

  /** One pass over every pod: forget the gone, schedule the pending, move the bound along. */
  void sync() {
    List<Pod> pods = api.pods().inAnyNamespace().list().getItems();
    forgetGone(pods);
    List<Pod> bound = schedule(pods);
    for (Pod pod : bound) {
      syncPod(pod);
    }
  }

  /** The full log of a pod's container run (the latest run of its first container by default). */
  String podLog(String namespace, String pod, String container) {
    ApiFront.LogLookup found = find(namespace, pod, container, false);
    if (found instanceof ApiFront.LogLookup.Found f) {
      return f.log().text();
    }
    throw new IllegalArgumentException(((ApiFront.LogLookup.Refused) found).message());
  }

  @Override
  public ApiFront.LogLookup find(String namespace, String pod, String container, boolean previous) {
    PodLogs podLogs = logs.get(namespace + "/" + pod);
    if (podLogs == null) {
      return new ApiFront.LogLookup.Refused(404, "NotFound", "pods \"" + pod + "\" not found");
    }
    String name = container;
    if (name == null) {
      if (podLogs.containers.size() == 1) {
        name = podLogs.containers.keySet().iterator().next();
      } else if (podLogs.defaultContainer != null) {
        name = podLogs.defaultContainer;
      } else {
        return new ApiFront.LogLookup.Refused(
            400,
            "BadRequest",
            "a container name must be specified for pod "
                + pod
                + ", choose one of: "
                + podLogs.containers.keySet().stream().collect(Collectors.joining(" ", "[", "]")));
      }
    }
    ContainerLogs containerLogs = podLogs.containers.get(name);
    if (containerLogs == null) {
      return new ApiFront.LogLookup.Refused(
          400, "BadRequest", "container " + name + " is not valid for pod " + pod);
    }
    List<ContainerLog> runsOfContainer = containerLogs.runs;
    if (previous) {
      if (runsOfContainer.size() < 2) {
        return new ApiFront.LogLookup.Refused(
            400,
            "BadRequest",
            "previous terminated container \"" + name + "\" in pod \"" + pod + "\" not found");
      }
      return new ApiFront.LogLookup.Found(runsOfContainer.get(runsOfContainer.size() - 2));
    }
    if (runsOfContainer.isEmpty()) {
      String reason = containerLogs.waitingReason;
      String why =
          "ErrImagePull".equals(reason) || "ImagePullBackOff".equals(reason)
              ? "image can't be pulled"
              : Objects.requireNonNullElse(reason, "ContainerCreating");
      return new ApiFront.LogLookup.Refused(
          400,
          "BadRequest",
          "container \"" + name + "\" in pod \"" + pod + "\" is waiting to start: " + why);
    }
    return new ApiFront.LogLookup.Found(runsOfContainer.get(runsOfContainer.size() - 1));
  }

  // --- the scheduler ---------------------------------------------------------------------------

  /** Binds what fits, marks what does not; returns the pods bound to the node. */
  private List<Pod> schedule(List<Pod> pods) {
    int used =
        pods.stream()
            .filter(p -> p.getSpec().getNodeName() != null && !Kube.terminal(p))
            .mapToInt(Kube::gpus)
            .sum();
    List<Pod> bound = new ArrayList<>();
    List<Pod> pending = new ArrayList<>();
    for (Pod pod : pods) {
      logsOf(pod);
      if (pod.getSpec().getNodeName() != null) {
        bound.add(pod);
      } else if (!Kube.terminal(pod)) {
        pending.add(pod);
      }
    }
    pending.sort(Kube.OLDEST_FIRST);
    for (Pod pod : pending) {
      if (Kube.deleting(pod)) {
        // The pod garbage collector fails unscheduled pods that are being deleted.
        writeStatus(pod, unscheduledDeletedStatus(pod));
        continue;
      }
      String missingClaim = missingClaim(pod);
      int gpus = Kube.gpus(pod);
      if (missingClaim == null && used + gpus <= settings.gpuCapacity()) {
        used += gpus;
        bound.add(bind(pod));
      } else {
        String why =
            missingClaim != null
                ? "0/1 nodes are available: persistentvolumeclaim \""
                    + missingClaim
                    + "\" not found. preemption: 0/1 nodes are available: 1 Preemption is not"
                    + " helpful for scheduling."
                : "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes"
                    + " are available: 1 No preemption victims found for incoming pod.";
        writeStatus(pod, unschedulableStatus(pod, why));
      }
    }
    return bound;
  }

  private Pod bind(Pod pod) {
    return api.pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"nodeName\":\"" + Kube.NODE + "\"}}");
  }

  private String missingClaim(Pod pod) {
    for (Volume volume : pod.getSpec().getVolumes()) {
      if (volume.getPersistentVolumeClaim() != null) {
        String claim = volume.getPersistentVolumeClaim().getClaimName();
        if (api.persistentVolumeClaims()
                .inNamespace(pod.getMetadata().getNamespace())
                .withName(claim)
                .get()
            == null) {
          return claim;
        }
      }
    }
    return null;
  }

  private PodStatus unschedulableStatus(Pod pod, String message) {
    PodStatus status = new PodStatus();
    status.setPhase("Pending");
    status.setQosClass(qosClass(pod));
    status.setConditions(
        List.of(
            condition(
                pod, "PodScheduled", "False", "Unschedulable", message, pod.getStatus(), true)));
    return status;
  }

  private PodStatus unscheduledDeletedStatus(Pod pod) {
    PodStatus status = unschedulableStatus(pod, null);
    status.setPhase("Failed");
    List<PodCondition> conditions = new ArrayList<>(status.getConditions());
    conditions.add(
        0,
        condition(
            pod,
            "DisruptionTarget",
            "True",
            "DeletionByPodGC",
            "PodGC: node no longer exists",
            pod.getStatus(),
            false));
    status.setConditions(conditions);
    return status;
  }

  // --- the kubelet -----------------------------------------------------------------------------

  /** The pods that left the API server: their containers get SIGTERM, then SIGKILL. */
  private void forgetGone(List<Pod> pods) {
    Set<String> present =
        pods.stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
    Set<String> names = pods.stream().map(Kubelet::key).collect(Collectors.toSet());
    logs.keySet().retainAll(names);
    for (PodRun run : List.copyOf(runs.values())) {
      if (!present.contains(run.uid)) {
        runs.remove(run.uid);
        for (ContainerRun c : run.containers.values()) {
          ContainerProcess process = c.process;
          if (process != null) {
            process.terminate();
            clock.schedule(process::kill, settings.gracePeriod().toNanos(), TimeUnit.NANOSECONDS);
          }
        }
      }
    }
  }

  private void syncPod(Pod pod) {
    PodRun run = runs.computeIfAbsent(pod.getMetadata().getUid(), uid -> new PodRun(pod));
    run.pod = pod;
    long now = System.nanoTime();
    if (Kube.deleting(pod) && !run.stopping) {
      run.stopping = true;
      run.killAt = now + settings.gracePeriod().toNanos();
      wakeAt(run.killAt);
      for (ContainerRun c : run.containers.values()) {
        if (c.state == State.RUNNING) {
          c.process.terminate();
        }
      }
    }
    if (run.stopping) {
      for (ContainerRun c : run.containers.values()) {
        if (c.state == State.WAITING) {
          c.terminated =
              new ContainerStateTerminatedBuilder()
                  .withExitCode(137)
                  .withReason("ContainerStatusUnknown")
                  .withMessage("The container could not be located when the pod was terminated")
                  .build();
          c.state = State.TERMINATED;
        } else if (c.state == State.RUNNING && now >= run.killAt) {
          ContainerProcess process = c.process;
          process.kill();
          exited(c, process, 137, "Error");
        }
      }
    } else {
      String missingVolume = missingVolume(pod);
      for (ContainerRun c : run.containers.values()) {
        advance(run, c, missingVolume, now);
      }
    }
    run.logs().waiting(run);
    writeStatus(pod, status(run));
  }

  /** One container's next step, if its time has come. */
  private void advance(PodRun run, ContainerRun c, String missingVolume, long now) {
    switch (c.state) {
      case RUNNING -> {}
      case TERMINATED -> {
        String policy = Objects.requireNonNullElse(run.pod.getSpec().getRestartPolicy(), "Always");
        if (policy.equals("Always")
            || (policy.equals("OnFailure") && c.terminated.getExitCode() != 0)) {
          c.lastTerminated = c.terminated;
          c.restartCount++;
          c.state = State.WAITING;
          long realSeconds = Math.min(300, 10L << Math.min(5, c.restartCount - 1));
          c.waiting(
              "CrashLoopBackOff",
              "back-off "
                  + goDuration(realSeconds)
                  + " restarting failed container="
                  + c.spec.getName()
                  + " pod="
                  + run.pod.getMetadata().getName()
                  + "_"
                  + run.pod.getMetadata().getNamespace()
                  + "("
                  + run.uid
                  + ")");
          c.notBefore =
              now + settings.crashBackoff().toNanos() * Math.min(8, 1L << (c.restartCount - 1));
          wakeAt(c.notBefore);
        }
      }
      case WAITING -> {
        if (now < c.notBefore) {
          return;
        }
        if (c.everStarted) {
          start(run, c);
          return;
        }
        String image = Objects.requireNonNullElse(c.spec.getImage(), "");
        if (!IMAGE.matcher(image).matches()) {
          c.waiting(
              "InvalidImageName",
              "Failed to apply default image tag \""
                  + image
                  + "\": couldn't parse image name \""
                  + image
                  + "\": invalid reference format");
          return;
        }
        if (missingVolume != null) {
          c.waiting("ContainerCreating", null);
          return;
        }
        if (settings.unpullable(image)) {
          if ("ErrImagePull".equals(c.waitingReason)) {
            c.waiting("ImagePullBackOff", "Back-off pulling image \"" + image + "\"");
            c.notBefore = now + settings.pullBackoff().toNanos();
          } else {
            c.waiting(
                "ErrImagePull",
                "rpc error: code = NotFound desc = failed to pull and unpack image \""
                    + image
                    + "\": failed to resolve reference \""
                    + image
                    + "\": "
                    + image
                    + ": not found");
            c.notBefore = now + settings.pullBackoff().toNanos();
          }
          wakeAt(c.notBefore);
          return;
        }
        String configError = configError(run.pod, c.spec);
        if (configError != null) {
          c.waiting("CreateContainerConfigError", configError);
          return;
        }
        if (c.createAt == 0) {
          c.waiting("ContainerCreating", null);
          c.createAt = now + settings.containerCreateDelay().toNanos();
          wakeAt(c.createAt);
          return;
        }
        if (now >= c.createAt) {
          start(run, c);
        }
      }
    }
  }

  private void start(PodRun run, ContainerRun c) {
    Pod pod = run.pod;
    ContainerLog log = new ContainerLog();
    run.logs().containers.get(c.spec.getName()).runs.add(log);
    c.state = State.RUNNING;
    c.everStarted = true;
    c.ready = false;
    c.startedAt = Kube.now();
    c.containerId = "containerd://" + hex64(run.uid + c.spec.getName() + c.restartCount);
    c.imageId = imageId(c.spec.getImage());
    String mount = null;
    Path dir = artifactsDir;
    for (VolumeMount m : c.spec.getVolumeMounts()) {
      if ("syllabus-artifacts".equals(m.getName())) {
        mount = m.getMountPath();
        if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
          dir = artifactsDir.resolve(m.getSubPath());
        }
      }
    }
    ContainerFiles files =
        new ContainerFiles(
            mount, dir, scratch.resolve(run.uid).resolve(c.spec.getName() + "-" + c.restartCount));
    int port =
        c.spec.getPorts().stream()
            .map(ContainerPort::getContainerPort)
            .filter(Objects::nonNull)
            .findFirst()
            .orElse(8000);
    ContainerProcess[] self = new ContainerProcess[1];
    ContainerProcess.Context context =
        new ContainerProcess.Context(
            log,
            clock,
            environment(pod, c.spec),
            files,
            port,
            settings,
            (code, reason) -> exited(c, self[0], code, reason),
            () -> {
              if (c.process == self[0] && c.process != null) {
                c.ready = true;
                wake.run();
              }
            });
    self[0] = ContainerProcess.of(settings.behaviourOf(pod, c.spec, c.index), context);
    c.process = self[0];
    self[0].start();
  }

  /** A program exited: its container is terminated with that code. */
  private void exited(ContainerRun c, ContainerProcess process, int code, String reason) {
    if (c.process != process || process == null) {
      return;
    }
    c.process = null;
    c.ready = false;
    c.state = State.TERMINATED;
    c.terminated =
        new ContainerStateTerminatedBuilder()
            .withExitCode(code)
            .withReason(reason != null ? reason : code == 0 ? "Completed" : "Error")
            .withStartedAt(c.startedAt)
            .withFinishedAt(Kube.now())
            .withContainerID(c.containerId)
            .build();
    c.currentLog().end();
    wake.run();
  }

  // --- what the kubelet checks before a container can start
  // ---------------------------------------

  /** A ConfigMap or Secret volume whose object is missing: the pod stays ContainerCreating. */
  private String missingVolume(Pod pod) {
    String namespace = pod.getMetadata().getNamespace();
    for (Volume volume : pod.getSpec().getVolumes()) {
      if (volume.getConfigMap() != null
          && !Boolean.TRUE.equals(volume.getConfigMap().getOptional())
          && configMap(namespace, volume.getConfigMap().getName()) == null) {
        return "configmap \"" + volume.getConfigMap().getName() + "\" not found";
      }
      if (volume.getSecret() != null
          && !Boolean.TRUE.equals(volume.getSecret().getOptional())
          && secret(namespace, volume.getSecret().getSecretName()) == null) {
        return "secret \"" + volume.getSecret().getSecretName() + "\" not found";
      }
    }
    return null;
  }

  /** What keeps a container's environment from being built, as the kubelet words it. */
  private String configError(Pod pod, Container container) {
    String namespace = pod.getMetadata().getNamespace();
    for (EnvVar env : container.getEnv()) {
      if (env.getValueFrom() == null) {
        continue;
      }
      var secretRef = env.getValueFrom().getSecretKeyRef();
      if (secretRef != null && !Boolean.TRUE.equals(secretRef.getOptional())) {
        Secret secret = secret(namespace, secretRef.getName());
        if (secret == null) {
          return "secret \"" + secretRef.getName() + "\" not found";
        }
        if (!has(secret.getData(), secretRef.getKey())
            && !has(secret.getStringData(), secretRef.getKey())) {
          return "couldn't find key "
              + secretRef.getKey()
              + " in Secret "
              + namespace
              + "/"
              + secretRef.getName();
        }
      }
      var configRef = env.getValueFrom().getConfigMapKeyRef();
      if (configRef != null && !Boolean.TRUE.equals(configRef.getOptional())) {
        ConfigMap map = configMap(namespace, configRef.getName());
        if (map == null) {
          return "configmap \"" + configRef.getName() + "\" not found";
        }
        if (!has(map.getData(), configRef.getKey())) {
          return "couldn't find key "
              + configRef.getKey()
              + " in ConfigMap "
              + namespace
              + "/"
              + configRef.getName();
        }
      }
    }
    for (EnvFromSource from : container.getEnvFrom()) {
      if (from.getSecretRef() != null
          && !Boolean.TRUE.equals(from.getSecretRef().getOptional())
          && secret(namespace, from.getSecretRef().getName()) == null) {
        return "secret \"" + from.getSecretRef().getName() + "\" not found";
      }
      if (from.getConfigMapRef() != null
          && !Boolean.TRUE.equals(from.getConfigMapRef().getOptional())
          && configMap(namespace, from.getConfigMapRef().getName()) == null) {
        return "configmap \"" + from.getConfigMapRef().getName() + "\" not found";
      }
    }
    return null;
  }

  /** The container's environment as its process sees it, {@code $(VAR)} references expanded. */
  private Map<String, String> environment(Pod pod, Container container) {
    String namespace = pod.getMetadata().getNamespace();
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : container.getEnvFrom()) {
      String prefix = Objects.requireNonNullElse(from.getPrefix(), "");
      if (from.getConfigMapRef() != null) {
        ConfigMap map = configMap(namespace, from.getConfigMapRef().getName());
        if (map != null && map.getData() != null) {
          map.getData().forEach((k, v) -> env.put(prefix + k, v));
        }
      }
      if (from.getSecretRef() != null) {
        Secret secret = secret(namespace, from.getSecretRef().getName());
        if (secret != null && secret.getData() != null) {
          secret.getData().forEach((k, v) -> env.put(prefix + k, decode(v)));
        }
      }
    }
    for (EnvVar var : container.getEnv()) {
      String value = null;
      if (var.getValue() != null) {
        value = expand(var.getValue(), env);
      } else if (var.getValueFrom() != null) {
        var from = var.getValueFrom();
        if (from.getFieldRef() != null) {
          value =
              switch (from.getFieldRef().getFieldPath()) {
                case "metadata.name" -> pod.getMetadata().getName();
                case "metadata.namespace" -> namespace;
                case "metadata.uid" -> pod.getMetadata().getUid();
                case "spec.nodeName" -> Kube.NODE;
                case "status.hostIP" -> Kube.NODE_IP;
                default -> "";
              };
        } else if (from.getSecretKeyRef() != null) {
          Secret secret = secret(namespace, from.getSecretKeyRef().getName());
          if (secret != null && has(secret.getData(), from.getSecretKeyRef().getKey())) {
            value = decode(secret.getData().get(from.getSecretKeyRef().getKey()));
          }
        } else if (from.getConfigMapKeyRef() != null) {
          ConfigMap map = configMap(namespace, from.getConfigMapKeyRef().getName());
          if (map != null && has(map.getData(), from.getConfigMapKeyRef().getKey())) {
            value = map.getData().get(from.getConfigMapKeyRef().getKey());
          }
        }
      }
      if (value != null) {
        env.put(var.getName(), value);
      }
    }
    return env;
  }

  /**
   * Kubernetes' dependent variables: {@code $(NAME)} of an earlier variable, {@code $$} escapes.
   */
  private static String expand(String value, Map<String, String> env) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      boolean escaped = m.start() > 0 && value.charAt(m.start() - 1) == '$';
      String replacement = escaped ? m.group() : env.getOrDefault(m.group(1), m.group());
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString().replace("$$(", "$(");
  }

  private ConfigMap configMap(String namespace, String name) {
    return api.configMaps().inNamespace(namespace).withName(name).get();
  }

  private Secret secret(String namespace, String name) {
    return api.secrets().inNamespace(namespace).withName(name).get();
  }

  private static boolean has(Map<String, String> data, String key) {
    return data != null && data.containsKey(key);
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  // --- the pod status
  // ------------------------------------------------------------------------------

  private PodStatus status(PodRun run) {
    Pod pod = run.pod;
    PodStatus old = pod.getStatus();
    List<ContainerStatus> statuses = new ArrayList<>();
    boolean anyWaitingFirstTime = false;
    boolean anyRunning = false;
    boolean anyRestarting = false;
    boolean allSucceeded = true;
    boolean allReady = true;
    List<String> unready = new ArrayList<>();
    for (ContainerRun c : run.containers.values()) {
      statuses.add(c.status());
      anyWaitingFirstTime |= c.state == State.WAITING && !c.everStarted;
      anyRunning |= c.state == State.RUNNING;
      anyRestarting |= c.state == State.WAITING && c.everStarted;
      allSucceeded &= c.state == State.TERMINATED && c.terminated.getExitCode() == 0;
      if (!c.ready) {
        allReady = false;
        unready.add(c.spec.getName());
      }
    }
    String phase;
    if (anyWaitingFirstTime) {
      phase = "Pending";
    } else if (anyRunning || anyRestarting) {
      phase = "Running";
    } else {
      phase = allSucceeded ? "Succeeded" : "Failed";
    }
    boolean terminal = phase.equals("Succeeded") || phase.equals("Failed");
    boolean ready = phase.equals("Running") && allReady;
    String readyReason = ready ? null : terminal ? "PodCompleted" : "ContainersNotReady";
    String readyMessage =
        ready || terminal
            ? null
            : "containers with unready status: "
                + String.join(" ", unready).transform(s -> "[" + s + "]");
    PodStatus status = new PodStatus();
    status.setPhase(phase);
    status.setConditions(
        List.of(
            condition(
                pod,
                "PodReadyToStartContainers",
                terminal ? "False" : "True",
                null,
                null,
                old,
                false),
            condition(pod, "Initialized", "True", null, null, old, false),
            condition(
                pod, "Ready", ready ? "True" : "False", readyReason, readyMessage, old, false),
            condition(
                pod,
                "ContainersReady",
                ready ? "True" : "False",
                readyReason,
                readyMessage,
                old,
                false),
            condition(pod, "PodScheduled", "True", null, null, old, false)));
    status.setHostIP(Kube.NODE_IP);
    status.setHostIPs(List.of(new io.fabric8.kubernetes.api.model.HostIP(Kube.NODE_IP)));
    status.setPodIP(run.podIp);
    status.setPodIPs(List.of(new PodIP(run.podIp)));
    status.setStartTime(run.startTime);
    status.setQosClass(qosClass(pod));
    status.setContainerStatuses(statuses);
    if (!pod.getSpec().getInitContainers().isEmpty()) {
      status.setInitContainerStatuses(
          pod.getSpec().getInitContainers().stream()
              .map(
                  init ->
                      new ContainerStatusBuilder()
                          .withName(init.getName())
                          .withImage(init.getImage())
                          .withImageID(imageId(init.getImage()))
                          .withContainerID("containerd://" + hex64(run.uid + init.getName()))
                          .withReady(true)
                          .withRestartCount(0)
                          .withStarted(false)
                          .withState(
                              new ContainerStateBuilder()
                                  .withTerminated(
                                      new ContainerStateTerminatedBuilder()
                                          .withExitCode(0)
                                          .withReason("Completed")
                                          .withStartedAt(run.startTime)
                                          .withFinishedAt(run.startTime)
                                          .build())
                                  .build())
                          .build())
              .toList());
    }
    return status;
  }

  /** A condition that keeps its last transition time while its status stays the same. */
  private static PodCondition condition(
      Pod pod,
      String type,
      String status,
      String reason,
      String message,
      PodStatus old,
      boolean probed) {
    String since = Kube.now();
    if (old != null) {
      for (PodCondition c : old.getConditions()) {
        if (type.equals(c.getType()) && status.equals(c.getStatus())) {
          since = c.getLastTransitionTime();
        }
      }
    }
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastProbeTime(null)
        .withLastTransitionTime(since)
        .build();
  }

  private void writeStatus(Pod pod, PodStatus status) {
    if (Kube.same(status, pod.getStatus())) {
      return;
    }
    Pod updated = Kube.copy(pod);
    updated.setStatus(status);
    Kube.unlessGone(
        () ->
            api.pods()
                .inNamespace(pod.getMetadata().getNamespace())
                .resource(updated)
                .updateStatus());
  }

  /** Guaranteed when every container's requests equal its limits, BestEffort when none has any. */
  private static String qosClass(Pod pod) {
    boolean any = false;
    boolean guaranteed = true;
    for (Container c : pod.getSpec().getContainers()) {
      var resources = c.getResources();
      Map<String, Quantity> requests =
          resources == null || resources.getRequests() == null ? Map.of() : resources.getRequests();
      Map<String, Quantity> limits =
          resources == null || resources.getLimits() == null ? Map.of() : resources.getLimits();
      for (String resource : List.of("cpu", "memory")) {
        any |= requests.containsKey(resource) || limits.containsKey(resource);
        Quantity limit = limits.get(resource);
        Quantity request = requests.getOrDefault(resource, limit);
        guaranteed &= limit != null && Objects.equals(request, limit);
      }
    }
    return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
  }

  /** The logs of this pod: a new pod of the same name starts with none. */
  private PodLogs logsOf(Pod pod) {
    return logs.compute(
        key(pod),
        (k, old) ->
            old != null && old.uid.equals(pod.getMetadata().getUid()) ? old : new PodLogs(pod));
  }

  private void wakeAt(long nanoTime) {
    long delay = Math.max(0, nanoTime - System.nanoTime());
    clock.schedule(wake, delay, TimeUnit.NANOSECONDS);
  }

  private static String key(Pod pod) {
    return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  private static String hex64(String seed) {
    String h = Kube.hexHash(seed, 32);
    return h + Kube.hexHash(h, 32);
  }

  private static String imageId(String image) {
    String repository = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
    int colon = repository.lastIndexOf(':');
    if (colon > repository.lastIndexOf('/')) {
      repository = repository.substring(0, colon);
    }
    return repository + "@sha256:" + hex64(image);
  }

  /** Seconds as Go prints a duration: {@code 10s}, {@code 1m20s}, {@code 5m0s}. */
  private static String goDuration(long seconds) {
    return seconds < 60 ? seconds + "s" : seconds / 60 + "m" + seconds % 60 + "s";
  }

  // --- the kubelet's memory of pods and containers
  // -------------------------------------------------

  private enum State {
    WAITING,
    RUNNING,
    TERMINATED
  }

  /** What the kubelet knows of one pod it runs. */
  private final class PodRun {
    final String uid;
    final Map<String, ContainerRun> containers = new LinkedHashMap<>();
    final String podIp;
    final String startTime = Kube.now();
    Pod pod;
    boolean stopping;
    long killAt;

    PodRun(Pod pod) {
      this.uid = pod.getMetadata().getUid();
      this.pod = pod;
      this.podIp = "10.244.0." + (nextIp++ % 250 + 2);
      int index = 0;
      for (Container c : pod.getSpec().getContainers()) {
        containers.put(c.getName(), new ContainerRun(c, index++, logs()));
      }
    }

    PodLogs logs() {
      return logsOf(pod);
    }
  }

  /** What the kubelet knows of one container. */
  private static final class ContainerRun {
    final Container spec;
    final int index;
    final ContainerLogs logs;
    State state = State.WAITING;
    String waitingReason = "ContainerCreating";
    String waitingMessage;
    boolean everStarted;
    boolean ready;
    int restartCount;
    long notBefore;
    long createAt;
    String startedAt;
    String containerId;
    String imageId;
    ContainerStateTerminated terminated;
    ContainerStateTerminated lastTerminated;
    ContainerProcess process;

    ContainerRun(Container spec, int index, PodLogs podLogs) {
      this.spec = spec;
      this.index = index;
      this.logs = podLogs.containers.get(spec.getName());
    }

    void waiting(String reason, String message) {
      waitingReason = reason;
      waitingMessage = message;
    }

    ContainerLog currentLog() {
      return logs.runs.get(logs.runs.size() - 1);
    }

    ContainerStatus status() {
      ContainerState current =
          switch (state) {
            case WAITING ->
                new ContainerStateBuilder()
                    .withNewWaiting()
                    .withReason(waitingReason)
                    .withMessage(waitingMessage)
                    .endWaiting()
                    .build();
            case RUNNING ->
                new ContainerStateBuilder()
                    .withNewRunning()
                    .withStartedAt(startedAt)
                    .endRunning()
                    .build();
            case TERMINATED -> new ContainerStateBuilder().withTerminated(terminated).build();
          };
      return new ContainerStatusBuilder()
          .withName(spec.getName())
          .withImage(spec.getImage())
          .withImageID(everStarted ? imageId : "")
          .withContainerID(everStarted ? containerId : null)
          .withReady(ready)
          .withRestartCount(restartCount)
          .withStarted(state == State.RUNNING)
          .withState(current)
          .withLastState(
              lastTerminated == null
                  ? new ContainerState()
                  : new ContainerStateBuilder().withTerminated(lastTerminated).build())
          .build();
    }
  }

  /** The logs of one pod, by container: what the API front serves, from any thread. */
  private static final class PodLogs {
    final Map<String, ContainerLogs> containers = new LinkedHashMap<>();
    final String defaultContainer;
    final String uid;

    PodLogs(Pod pod) {
      uid = pod.getMetadata().getUid();
      for (Container c : pod.getSpec().getContainers()) {
        containers.put(c.getName(), new ContainerLogs());
      }
      defaultContainer =
          pod.getMetadata().getAnnotations().get("kubectl.kubernetes.io/default-container");
    }

    void waiting(PodRun run) {
      run.containers.forEach((name, c) -> containers.get(name).waitingReason = c.waitingReason);
    }
  }

  /** The runs of one container, oldest first, and why it waits when it has none yet. */
  private static final class ContainerLogs {
    final List<ContainerLog> runs = new CopyOnWriteArrayList<>();
    volatile String waitingReason;
  }
}
