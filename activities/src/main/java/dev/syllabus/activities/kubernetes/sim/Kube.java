package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/** The small facts about API objects that several simulated controllers need. */
final class Kube {
  static final String GPU = "nvidia.com/gpu";
  static final String NODE = "sim-node-1";
  static final String NODE_IP = "10.0.0.10";

  /** The alphabet of Kubernetes' random name suffixes (no vowels, no look-alikes). */
  private static final String ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

  private static final Random RANDOM = new SecureRandom();

  private Kube() {}

  /** Now, as the API writes a {@code metav1.Time}: RFC3339 in whole seconds. */
  static String now() {
    return DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  }

  /** Now as a {@code metav1.MicroTime}. */
  static String nowMicros() {
    return DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
        .withZone(java.time.ZoneOffset.UTC)
        .format(Instant.now());
  }

  /** A random suffix as {@code generateName} makes: five characters of the safe alphabet. */
  static String randomSuffix(int length) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < length; i++) {
      s.append(ALPHANUMS.charAt(RANDOM.nextInt(ALPHANUMS.length())));
    }
    return s.toString();
  }

  /** A short stable hash in the safe alphabet, like a pod-template-hash. */
  static String safeHash(String text, int length) {
    byte[] digest = sha256(text);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < length; i++) {
      s.append(ALPHANUMS.charAt((digest[i] & 0xff) % ALPHANUMS.length()));
    }
    return s.toString();
  }

  /** The first hex characters of a SHA-1-like digest, as Kueue suffixes workload names. */
  static String hexHash(String text, int length) {
    return HexFormat.of().formatHex(sha256(text)).substring(0, length);
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A controller owner reference to {@code owner}. */
  static OwnerReference controllerRef(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /** The uid of the object's controller of this kind, or null. */
  static String controllerUid(HasMetadata object, String kind) {
    return Objects.requireNonNullElse(
            object.getMetadata().getOwnerReferences(), List.<OwnerReference>of())
        .stream()
        .filter(r -> Boolean.TRUE.equals(r.getController()) && kind.equals(r.getKind()))
        .map(OwnerReference::getUid)
        .findFirst()
        .orElse(null);
  }

  static boolean deleting(HasMetadata object) {
    return object.getMetadata().getDeletionTimestamp() != null;
  }

  /** A pod whose phase is Succeeded or Failed: its containers will not run again. */
  static boolean terminal(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /** The nvidia.com/gpu a pod asks for: requests, or limits where requests leave it out. */
  static int gpus(Pod pod) {
    return pod.getSpec().getContainers().stream().mapToInt(Kube::gpus).sum();
  }

  static int gpus(Container container) {
    ResourceRequirements resources = container.getResources();
    if (resources == null) {
      return 0;
    }
    Quantity q = resources.getRequests() == null ? null : resources.getRequests().get(GPU);
    if (q == null && resources.getLimits() != null) {
      q = resources.getLimits().get(GPU);
    }
    return q == null ? 0 : Quantity.getAmountInBytes(q).intValue();
  }

  /** Whether labels satisfy a selector's matchLabels and matchExpressions. */
  static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null
        && !selector.getMatchLabels().entrySet().stream()
            .allMatch(e -> e.getValue().equals(have.get(e.getKey())))) {
      return false;
    }
    return selector.getMatchExpressions() == null
        || selector.getMatchExpressions().stream()
            .allMatch(
                e -> {
                  List<String> values = e.getValues() == null ? List.of() : e.getValues();
                  return switch (e.getOperator()) {
                    case "In" -> values.contains(have.get(e.getKey()));
                    case "NotIn" -> !values.contains(have.get(e.getKey()));
                    case "Exists" -> have.containsKey(e.getKey());
                    case "DoesNotExist" -> !have.containsKey(e.getKey());
                    default -> false;
                  };
                });
  }

  /** Whether labels carry every pair of a Service-style selector. */
  static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    if (selector == null || selector.isEmpty()) {
      return false;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(have.get(e.getKey())));
  }

  /** Oldest first, as controllers and schedulers order what is waiting. */
  static final Comparator<HasMetadata> OLDEST_FIRST =
      Comparator.comparing(
              (HasMetadata o) ->
                  Objects.requireNonNullElse(o.getMetadata().getCreationTimestamp(), ""))
          .thenComparing(o -> o.getMetadata().getName());

  /**
   * The defaults the API server writes into a pod a controller creates: scheduler, grace period,
   * DNS and restart policy, service account, the tolerations every pod gets, and per container the
   * image pull policy and termination message settings.
   */
  static void defaultPod(Pod pod) {
    var spec = pod.getSpec();
    spec.setRestartPolicy(Objects.requireNonNullElse(spec.getRestartPolicy(), "Always"));
    spec.setSchedulerName(Objects.requireNonNullElse(spec.getSchedulerName(), "default-scheduler"));
    spec.setTerminationGracePeriodSeconds(
        Objects.requireNonNullElse(spec.getTerminationGracePeriodSeconds(), 30L));
    spec.setDnsPolicy(Objects.requireNonNullElse(spec.getDnsPolicy(), "ClusterFirst"));
    spec.setServiceAccountName(Objects.requireNonNullElse(spec.getServiceAccountName(), "default"));
    spec.setServiceAccount(spec.getServiceAccountName());
    spec.setEnableServiceLinks(Objects.requireNonNullElse(spec.getEnableServiceLinks(), true));
    spec.setPriority(Objects.requireNonNullElse(spec.getPriority(), 0));
    spec.setPreemptionPolicy(
        Objects.requireNonNullElse(spec.getPreemptionPolicy(), "PreemptLowerPriority"));
    if (spec.getSecurityContext() == null) {
      spec.setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContext());
    }
    if (spec.getTolerations().isEmpty()) {
      spec.setTolerations(
          List.of(
              new io.fabric8.kubernetes.api.model.TolerationBuilder()
                  .withKey("node.kubernetes.io/not-ready")
                  .withOperator("Exists")
                  .withEffect("NoExecute")
                  .withTolerationSeconds(300L)
                  .build(),
              new io.fabric8.kubernetes.api.model.TolerationBuilder()
                  .withKey("node.kubernetes.io/unreachable")
                  .withOperator("Exists")
                  .withEffect("NoExecute")
                  .withTolerationSeconds(300L)
                  .build()));
    }
    for (Container c : spec.getContainers()) {
      String image = Objects.requireNonNullElse(c.getImage(), "");
      String tag = image.contains("@") ? "digest" : image.substring(image.lastIndexOf('/') + 1);
      boolean latest = !tag.contains(":") || tag.endsWith(":latest");
      c.setImagePullPolicy(
          Objects.requireNonNullElse(c.getImagePullPolicy(), latest ? "Always" : "IfNotPresent"));
      c.setTerminationMessagePath(
          Objects.requireNonNullElse(c.getTerminationMessagePath(), "/dev/termination-log"));
      c.setTerminationMessagePolicy(
          Objects.requireNonNullElse(c.getTerminationMessagePolicy(), "File"));
    }
  }

  /** Runs a write whose object someone else may have deleted meanwhile: that is no error. */
  static void unlessGone(Runnable write) {
    try {
      write.run();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** Whether two API values would serialise the same: what a controller compares before a write. */
  static boolean same(Object a, Object b) {
    return Serialization.asJson(a).equals(Serialization.asJson(b));
  }

  /** A deep copy through JSON. */
  @SuppressWarnings("unchecked")
  static <T> T copy(T value) {
    return value == null
        ? null
        : (T) Serialization.unmarshal(Serialization.asJson(value), value.getClass());
  }
}
