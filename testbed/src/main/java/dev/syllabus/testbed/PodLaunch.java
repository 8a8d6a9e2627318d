package dev.syllabus.testbed;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a kubelet works out before it starts a pod's container, done for a local process: the
 * environment (values, {@code $(VAR)} references, ConfigMap and Secret keys, the downward API), the
 * volumes as local folders (ConfigMaps and Secrets written out as files, a PersistentVolumeClaim as
 * its PersistentVolume's {@code hostPath}, {@code emptyDir} as a scratch folder), and the command,
 * arguments, working directory and environment with every mount path mapped onto its folder.
 *
 * @param command the program and its arguments
 * @param env the container's environment
 * @param workingDir where the program starts
 * @param memoryLimitBytes the container's memory limit, 0 for none
 */
record PodLaunch(
    List<String> command, Map<String, String> env, Path workingDir, long memoryLimitBytes) {

  /** The container cannot be created: the kubelet's waiting reason and message. */
  static final class CannotCreate extends Exception {
    final String reason;

    CannotCreate(String reason, String message) {
      super(message);
      this.reason = reason;
    }
  }

  /** Something the container needs is not there yet (a volume's ConfigMap): try again later. */
  static final class NotYet extends Exception {
    NotYet(String message) {
      super(message);
    }
  }

  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)");

  /** The label Argo Workflows' controller puts on every pod of a workflow. */
  static final String ARGO_WORKFLOW_LABEL = "workflows.argoproj.io/workflow";

  /**
   * The container the player runs: the first, except in a pod of an Argo Workflow, whose first
   * container is Argo's {@code wait} sidecar (the argoexec image, which cannot run here) and whose
   * step is the container named {@code main}.
   */
  static Container mainContainer(Pod pod) {
    List<Container> containers = pod.getSpec().getContainers();
    Map<String, String> labels = pod.getMetadata().getLabels();
    if (labels != null && labels.containsKey(ARGO_WORKFLOW_LABEL)) {
      for (Container container : containers) {
        if ("main".equals(container.getName())) {
          return container;
        }
      }
    }
    return containers.get(0);
  }

  /**
   * The step's own command: Argo runs a {@code main} container through its emissary executor,
   * {@code /var/run/argo/argoexec emissary [flags] -- COMMAND…}, from a volume its init container
   * fills with argoexec. The player runs COMMAND itself, as the emissary would (without the
   * outputs, artifacts and signals the emissary adds, which a chain of container steps does not
   * use). Any other command is returned as it is.
   */
  static List<String> withoutArgoEmissary(List<String> command) {
    if (command.size() >= 2
        && command.get(0).endsWith("/argoexec")
        && "emissary".equals(command.get(1))) {
      int separator = command.indexOf("--");
      if (separator >= 0) {
        return List.copyOf(command.subList(separator + 1, command.size()));
      }
    }
    return command;
  }

  /**
   * Maps the pod's main container ({@link #mainContainer}) onto this machine, writing its ConfigMap
   * and Secret volumes under {@code podDir}.
   *
   * @param standIn the stand-in's command, or null to run the container's own command
   */
  static PodLaunch of(KubernetesClient api, Pod pod, Path podDir, List<String> standIn)
      throws CannotCreate, NotYet {
    String namespace = pod.getMetadata().getNamespace();
    Container main = mainContainer(pod);

    Map<String, Path> volumes = new LinkedHashMap<>();
    for (Volume volume : list(pod.getSpec().getVolumes())) {
      volumes.put(volume.getName(), volume(api, namespace, volume, podDir));
    }
    Map<String, Path> mounts = new LinkedHashMap<>();
    list(main.getVolumeMounts()).stream()
        .sorted(Comparator.comparingInt((VolumeMount m) -> m.getMountPath().length()).reversed())
        .forEach(
            m -> {
              Path dir = volumes.get(m.getName());
              if (dir != null) {
                String sub = m.getSubPath();
                mounts.put(
                    m.getMountPath().replaceAll("/+$", ""),
                    sub == null || sub.isEmpty() ? dir : dir.resolve(sub));
              }
            });

    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : list(main.getEnvFrom())) {
      String prefix = from.getPrefix() == null ? "" : from.getPrefix();
      Map<String, String> data =
          from.getConfigMapRef() != null
              ? configMapData(
                  api,
                  namespace,
                  from.getConfigMapRef().getName(),
                  from.getConfigMapRef().getOptional())
              : secretData(
                  api, namespace, from.getSecretRef().getName(), from.getSecretRef().getOptional());
      data.forEach((k, v) -> env.put(prefix + k, v));
    }
    for (EnvVar var : list(main.getEnv())) {
      String value =
          var.getValueFrom() != null
              ? valueFrom(api, pod, main, var.getValueFrom())
              : expand(var.getValue() == null ? "" : var.getValue(), env);
      if (value != null) {
        env.put(var.getName(), mapPath(value, mounts));
      }
    }

    List<String> command = new ArrayList<>();
    if (standIn != null) {
      command.addAll(standIn);
    } else {
      List<String> given = new ArrayList<>(list(main.getCommand()));
      given.addAll(list(main.getArgs()));
      withoutArgoEmissary(given).forEach(c -> command.add(mapPath(expand(c, env), mounts)));
      if (command.isEmpty()) {
        throw new CannotCreate(
            "CreateContainerError",
            "container "
                + main.getName()
                + " has no command; the testbed runs the command, not the image's entrypoint");
      }
    }
    Path workingDir =
        main.getWorkingDir() == null ? podDir : Path.of(mapPath(main.getWorkingDir(), mounts));
    long memory = 0;
    if (main.getResources() != null
        && main.getResources().getLimits() != null
        && main.getResources().getLimits().get("memory") != null) {
      memory = Quantity.getAmountInBytes(main.getResources().getLimits().get("memory")).longValue();
    }
    return new PodLaunch(command, env, workingDir, memory);
  }

  private static Path volume(KubernetesClient api, String namespace, Volume volume, Path podDir)
      throws CannotCreate, NotYet {
    Path dir = podDir.resolve("volumes").resolve(volume.getName());
    if (volume.getPersistentVolumeClaim() != null) {
      return claimedFolder(api, namespace, volume.getPersistentVolumeClaim().getClaimName());
    }
    if (volume.getHostPath() != null) {
      return Path.of(volume.getHostPath().getPath());
    }
    if (volume.getConfigMap() != null) {
      var source = volume.getConfigMap();
      ConfigMap map = api.configMaps().inNamespace(namespace).withName(source.getName()).get();
      if (map == null && !Boolean.TRUE.equals(source.getOptional())) {
        throw new NotYet("configmap \"" + source.getName() + "\" not found");
      }
      writeFiles(
          dir,
          map == null ? Map.of() : text(map.getData(), map.getBinaryData()),
          source.getItems());
      return dir;
    }
    if (volume.getSecret() != null) {
      var source = volume.getSecret();
      Secret secret = api.secrets().inNamespace(namespace).withName(source.getSecretName()).get();
      if (secret == null && !Boolean.TRUE.equals(source.getOptional())) {
        throw new NotYet("secret \"" + source.getSecretName() + "\" not found");
      }
      writeFiles(
          dir,
          secret == null ? Map.of() : text(secret.getStringData(), secret.getData()),
          source.getItems());
      return dir;
    }
    // emptyDir, the service account token's projected volume and anything else: a folder.
    mkdirs(dir);
    return dir;
  }

  /** The host folder behind a claim: its bound PersistentVolume's hostPath. */
  private static Path claimedFolder(KubernetesClient api, String namespace, String claim)
      throws NotYet {
    PersistentVolumeClaim pvc =
        api.persistentVolumeClaims().inNamespace(namespace).withName(claim).get();
    String volumeName = pvc == null || pvc.getSpec() == null ? null : pvc.getSpec().getVolumeName();
    if (volumeName == null || volumeName.isEmpty()) {
      throw new NotYet("persistentvolumeclaim \"" + claim + "\" is not bound");
    }
    PersistentVolume pv = api.persistentVolumes().withName(volumeName).get();
    if (pv == null || pv.getSpec().getHostPath() == null) {
      throw new NotYet(
          "persistentvolume \"" + volumeName + "\" has no hostPath; the testbed mounts only those");
    }
    return Path.of(pv.getSpec().getHostPath().getPath());
  }

  private static String valueFrom(KubernetesClient api, Pod pod, Container main, EnvVarSource from)
      throws CannotCreate {
    String namespace = pod.getMetadata().getNamespace();
    if (from.getConfigMapKeyRef() != null) {
      var ref = from.getConfigMapKeyRef();
      ConfigMap map = api.configMaps().inNamespace(namespace).withName(ref.getName()).get();
      String value =
          map == null ? null : text(map.getData(), map.getBinaryData()).get(ref.getKey());
      if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
        throw new CannotCreate(
            "CreateContainerConfigError",
            map == null
                ? "configmap \"" + ref.getName() + "\" not found"
                : "couldn't find key "
                    + ref.getKey()
                    + " in ConfigMap "
                    + namespace
                    + "/"
                    + ref.getName());
      }
      return value;
    }
    if (from.getSecretKeyRef() != null) {
      var ref = from.getSecretKeyRef();
      Secret secret = api.secrets().inNamespace(namespace).withName(ref.getName()).get();
      String value =
          secret == null ? null : text(secret.getStringData(), secret.getData()).get(ref.getKey());
      if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
        throw new CannotCreate(
            "CreateContainerConfigError",
            secret == null
                ? "secret \"" + ref.getName() + "\" not found"
                : "couldn't find key "
                    + ref.getKey()
                    + " in Secret "
                    + namespace
                    + "/"
                    + ref.getName());
      }
      return value;
    }
    if (from.getFieldRef() != null) {
      String path = from.getFieldRef().getFieldPath();
      var meta = pod.getMetadata();
      Matcher keyed = Pattern.compile("metadata\\.(labels|annotations)\\['(.+)'\\]").matcher(path);
      if (keyed.matches()) {
        Map<String, String> m =
            keyed.group(1).equals("labels") ? meta.getLabels() : meta.getAnnotations();
        return m == null ? "" : m.getOrDefault(keyed.group(2), "");
      }
      return switch (path) {
        case "metadata.name" -> meta.getName();
        case "metadata.namespace" -> meta.getNamespace();
        case "metadata.uid" -> meta.getUid();
        case "spec.nodeName" -> pod.getSpec().getNodeName();
        case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
        case "status.podIP", "status.hostIP" -> "127.0.0.1";
        default -> "";
      };
    }
    if (from.getResourceFieldRef() != null) {
      String resource = from.getResourceFieldRef().getResource();
      var resources = main.getResources();
      Map<String, Quantity> side =
          resources == null
              ? null
              : resource.startsWith("limits.") ? resources.getLimits() : resources.getRequests();
      Quantity q = side == null ? null : side.get(resource.substring(resource.indexOf('.') + 1));
      return q == null ? "0" : Quantity.getAmountInBytes(q).toBigInteger().toString();
    }
    return null;
  }

  private static Map<String, String> configMapData(
      KubernetesClient api, String namespace, String name, Boolean optional) throws CannotCreate {
    ConfigMap map = api.configMaps().inNamespace(namespace).withName(name).get();
    if (map == null) {
      if (Boolean.TRUE.equals(optional)) {
        return Map.of();
      }
      throw new CannotCreate("CreateContainerConfigError", "configmap \"" + name + "\" not found");
    }
    return text(map.getData(), map.getBinaryData());
  }

  private static Map<String, String> secretData(
      KubernetesClient api, String namespace, String name, Boolean optional) throws CannotCreate {
    Secret secret = api.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      if (Boolean.TRUE.equals(optional)) {
        return Map.of();
      }
      throw new CannotCreate("CreateContainerConfigError", "secret \"" + name + "\" not found");
    }
    return text(secret.getStringData(), secret.getData());
  }

  /** Plain entries as they are, base64 ones decoded. */
  private static Map<String, String> text(Map<String, String> plain, Map<String, String> base64) {
    Map<String, String> out = new LinkedHashMap<>();
    if (base64 != null) {
      base64.forEach(
          (k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (plain != null) {
      out.putAll(plain);
    }
    return out;
  }

  private static void writeFiles(Path dir, Map<String, String> data, List<KeyToPath> items) {
    mkdirs(dir);
    try {
      if (items == null || items.isEmpty()) {
        for (Map.Entry<String, String> file : data.entrySet()) {
          Files.writeString(dir.resolve(file.getKey()), file.getValue());
        }
      } else {
        for (KeyToPath item : items) {
          if (data.containsKey(item.getKey())) {
            Path file = dir.resolve(item.getPath());
            mkdirs(file.getParent());
            Files.writeString(file, data.get(item.getKey()));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Kubernetes' variable references: {@code $(NAME)} becomes the value of an environment variable
   * defined before it (left as it is when there is none), {@code $$} a single {@code $}.
   */
  static String expand(String text, Map<String, String> env) {
    Matcher m = REFERENCE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group(1) == null) {
        replacement = "$";
      } else {
        replacement = env.getOrDefault(m.group(1), m.group());
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * A container path mapped onto its local folder: a value that is a mount path or starts with one
   * (also inside a longer text such as a shell command, where it follows a space, quote or equals
   * sign) has that prefix replaced. Mount paths are tried longest first.
   */
  static String mapPath(String value, Map<String, Path> mounts) {
    if (mounts.isEmpty()) {
      return value;
    }
    // One pass over all mount paths, so that a replaced path is not replaced again (a folder
    // under /tmp when /tmp is mounted too).
    StringBuilder alternatives = new StringBuilder();
    for (String mountPath : mounts.keySet()) {
      alternatives.append(alternatives.length() == 0 ? "" : "|").append(Pattern.quote(mountPath));
    }
    Pattern p = Pattern.compile("(^|[\\s\"'=:])(" + alternatives + ")(?=$|[/\\s\"';:])");
    return p.matcher(value)
        .replaceAll(r -> Matcher.quoteReplacement(r.group(1) + mounts.get(r.group(2))));
  }

  private static void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> List<T> list(List<T> items) {
    return items == null ? List.of() : items;
  }
}
