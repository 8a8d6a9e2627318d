package dev.syllabus.activities.kubernetes;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a pod cannot run, in the words a person needs: an image that cannot be pulled, a missing
 * Secret, a crash loop, out of memory, a missing or unbound PersistentVolumeClaim, more resources
 * than any node has (each permanent: another attempt would fail the same way), or no room in the
 * cluster yet (it may come; the recipe's capacity deadline bounds the wait).
 *
 * @param message what is wrong, naming the pod and container
 * @param permanent another attempt would fail the same way
 * @param capacity the pod waits for the cluster to have room for it
 */
record PodTrouble(String message, boolean permanent, boolean capacity) {

  /** How the message of a pod waiting for room in the cluster begins. */
  static final String WAITING_FOR_CAPACITY = "waiting for capacity: ";

  /** Waiting reasons that do not go away by waiting. */
  static final Set<String> FAIL_FAST =
      Set.of(
          "ErrImagePull",
          "ImagePullBackOff",
          "InvalidImageName",
          "ErrImageNeverPull",
          "CreateContainerConfigError",
          "CreateContainerError",
          "CrashLoopBackOff");

  /** What keeps {@code pod} from running, or null when nothing does (yet). */
  static PodTrouble of(Pod pod) {
    String name = pod.getMetadata().getName();
    if (pod.getStatus() == null) {
      return null;
    }
    List<ContainerStatus> statuses = new ArrayList<>();
    if (pod.getStatus().getInitContainerStatuses() != null) {
      statuses.addAll(pod.getStatus().getInitContainerStatuses());
    }
    if (pod.getStatus().getContainerStatuses() != null) {
      statuses.addAll(pod.getStatus().getContainerStatuses());
    }
    for (ContainerStatus status : statuses) {
      ContainerStateTerminated oom = oomKilled(status);
      if (oom != null) {
        return new PodTrouble(
            "pod "
                + name
                + ": container "
                + status.getName()
                + " ran out of memory (OOMKilled, exit code "
                + oom.getExitCode()
                + memoryLimit(pod, status.getName())
                + ")",
            true,
            false);
      }
      ContainerStateWaiting waiting =
          status.getState() == null ? null : status.getState().getWaiting();
      if (waiting != null && FAIL_FAST.contains(waiting.getReason())) {
        return new PodTrouble(
            "pod " + name + ": container " + status.getName() + " " + explain(status, waiting),
            true,
            false);
      }
    }
    if (pod.getStatus().getConditions() != null) {
      for (PodCondition condition : pod.getStatus().getConditions()) {
        if ("PodScheduled".equals(condition.getType())
            && "False".equals(condition.getStatus())
            && "Unschedulable".equals(condition.getReason())) {
          return unschedulable(pod, oneLine(condition.getMessage()));
        }
      }
    }
    return null;
  }

  private static final Pattern MISSING_CLAIM =
      Pattern.compile("persistentvolumeclaim \"([^\"]+)\" not found");

  /** The scheduler's preemption verdict when no node could hold the pod even if it were empty. */
  private static final Pattern NOT_HELPFUL =
      Pattern.compile(
          "preemption: 0/(\\d+) nodes are available: (\\d+) Preemption is not helpful for"
              + " scheduling\\.?$");

  private static final Pattern REASONS =
      Pattern.compile("^0/\\d+ nodes are available: (.*?)\\. preemption:");

  /**
   * Why the scheduler cannot place the pod. A missing or unbound PersistentVolumeClaim and a pod
   * larger than any node (the scheduler finds that preemption would not help on any node, for
   * resources alone) do not go away by waiting; anything else is waiting for capacity.
   */
  private static PodTrouble unschedulable(Pod pod, String message) {
    String name = pod.getMetadata().getName();
    Matcher missing = MISSING_CLAIM.matcher(message);
    if (missing.find()) {
      return new PodTrouble(
          "pod "
              + name
              + " needs PersistentVolumeClaim "
              + missing.group(1)
              + ", which does not exist in namespace "
              + pod.getMetadata().getNamespace()
              + " (create it: deploy/pvc.yaml)",
          true,
          false);
    }
    if (message.contains("pod has unbound immediate PersistentVolumeClaims")) {
      List<String> claims = new ArrayList<>();
      for (Volume volume :
          pod.getSpec().getVolumes() == null ? List.<Volume>of() : pod.getSpec().getVolumes()) {
        if (volume.getPersistentVolumeClaim() != null) {
          claims.add(volume.getPersistentVolumeClaim().getClaimName());
        }
      }
      String which =
          claims.size() == 1
              ? "PersistentVolumeClaim " + claims.get(0) + " is"
              : "one of its PersistentVolumeClaims " + String.join(", ", claims) + " is";
      return new PodTrouble(
          "pod "
              + name
              + " cannot be scheduled: "
              + which
              + " not bound to a volume (does its storage class provision volumes? kubectl"
              + " describe pvc "
              + (claims.size() == 1 ? claims.get(0) : "…")
              + ")",
          true,
          false);
    }
    Matcher verdict = NOT_HELPFUL.matcher(message);
    Matcher reasons = REASONS.matcher(message);
    if (verdict.find()
        && verdict.group(1).equals(verdict.group(2))
        && !verdict.group(1).equals("0")
        && reasons.find()
        && onlyInsufficient(reasons.group(1))) {
      return new PodTrouble(
          "pod "
              + name
              + " asks for more than any node of the cluster has: "
              + reasons.group(1)
              + " (no node could ever hold it; lower the recipe's resources or add larger nodes)",
          true,
          false);
    }
    return new PodTrouble(WAITING_FOR_CAPACITY + "pod " + name + ": " + message, false, true);
  }

  /** Whether every reason the scheduler gives is a resource the node has too little of. */
  private static boolean onlyInsufficient(String reasons) {
    for (String reason : reasons.split(", ")) {
      if (!reason.matches("\\d+ Insufficient \\S+")) {
        return false;
      }
    }
    return true;
  }

  private static String explain(ContainerStatus status, ContainerStateWaiting waiting) {
    String reason = waiting.getReason();
    String detail = waiting.getMessage() == null ? "" : ": " + oneLine(waiting.getMessage());
    return switch (reason) {
      case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull" ->
          "cannot pull image " + quoted(status.getImage()) + " (" + reason + detail + ")";
      case "InvalidImageName" ->
          "has an invalid image name " + quoted(status.getImage()) + " (" + reason + detail + ")";
      case "CreateContainerConfigError", "CreateContainerError" ->
          "cannot be created (" + reason + detail + ")";
      case "CrashLoopBackOff" ->
          "keeps crashing (CrashLoopBackOff after "
              + status.getRestartCount()
              + " restarts"
              + lastExit(status)
              + ")";
      default -> reason + detail;
    };
  }

  private static ContainerStateTerminated oomKilled(ContainerStatus status) {
    for (var state :
        new io.fabric8.kubernetes.api.model.ContainerState[] {
          status.getState(), status.getLastState()
        }) {
      if (state != null
          && state.getTerminated() != null
          && "OOMKilled".equals(state.getTerminated().getReason())) {
        return state.getTerminated();
      }
    }
    return null;
  }

  private static String lastExit(ContainerStatus status) {
    if (status.getLastState() == null || status.getLastState().getTerminated() == null) {
      return "";
    }
    ContainerStateTerminated last = status.getLastState().getTerminated();
    return "; last exit code "
        + last.getExitCode()
        + (last.getReason() == null ? "" : " (" + last.getReason() + ")");
  }

  private static String memoryLimit(Pod pod, String container) {
    for (Container c : pod.getSpec().getContainers()) {
      if (c.getName().equals(container)
          && c.getResources() != null
          && c.getResources().getLimits() != null) {
        Quantity limit = c.getResources().getLimits().get("memory");
        if (limit != null) {
          return "; its memory limit is " + limit;
        }
      }
    }
    return "";
  }

  private static String quoted(String text) {
    return text == null ? "(none)" : "\"" + text + "\"";
  }

  static String oneLine(String text) {
    return text == null ? "" : text.replaceAll("\\s+", " ").trim();
  }
}
