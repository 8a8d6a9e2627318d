package dev.syllabus.activities.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.temporal.failure.ApplicationFailure;

/**
 * Turns a failure talking to the API server into one a person can act on: permanent when it would
 * not go away by trying again (forbidden, invalid, a namespace that does not exist), retried
 * otherwise (the API server restarting, a timeout).
 */
final class ClusterFailures {
  private ClusterFailures() {}

  /**
   * @param what what the worker was doing, as a verb phrase: {@code "create Job r-0-sft-1"}
   */
  static ApplicationFailure of(String what, String namespace, KubernetesClientException e) {
    String status = e.getStatus() != null ? e.getStatus().getMessage() : null;
    String detail = PodTrouble.oneLine(status != null ? status : e.getMessage());
    int code = e.getCode();
    if (code == 403) {
      return ApplicationFailure.newNonRetryableFailure(
          "the worker may not "
              + what
              + " in namespace "
              + namespace
              + " ("
              + detail
              + "); check its Role (deploy/role.yaml) with `syllabus doctor --backend kubernetes`",
          "Forbidden");
    }
    if (code == 400 || code == 422) {
      return ApplicationFailure.newNonRetryableFailure(
          "the cluster refused to " + what + ": " + detail, "Invalid");
    }
    if (code == 404 && what.startsWith("create")) {
      return ApplicationFailure.newNonRetryableFailure(
          "cannot " + what + ": " + detail + " (does namespace " + namespace + " exist?)",
          "NotFound");
    }
    return ApplicationFailure.newFailure(
        "cannot " + what + " (" + (code == 0 ? "no answer" : "HTTP " + code) + "): " + detail,
        "ClusterUnavailable");
  }
}
