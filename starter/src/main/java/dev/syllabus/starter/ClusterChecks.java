package dev.syllabus.starter;

import dev.syllabus.activities.kubernetes.Permissions;
import dev.syllabus.activities.kubernetes.Permissions.Permission;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.VersionInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The checks of {@code syllabus doctor --backend kubernetes}: the cluster answers, the namespace is
 * there, this identity may do what the worker does there ({@link Permissions}, asked one verb at a
 * time with SelfSubjectAccessReviews), and the artifact store's claim is bound. Once the cluster
 * does not answer, or the namespace is missing, the checks after it are skipped with that reason.
 */
final class ClusterChecks {

  /** How long the API server may take to accept a connection or to answer. */
  private static final int TIMEOUT_MS = 5_000;

  private final Path kubeconfig;
  private final String as;
  private final String namespaceOption;
  private final String claim;

  /**
   * @param kubeconfig the file to read, or null for the usual places
   * @param as the user to impersonate, e.g. the worker's service account; null for the kubeconfig's
   *     own
   * @param namespace from {@code --k8s-namespace} or its environment variable, or null
   * @param claim the PersistentVolumeClaim of the artifact store
   */
  ClusterChecks(Path kubeconfig, String as, String namespace, String claim) {
    this.kubeconfig = kubeconfig;
    this.as = as;
    this.namespaceOption = namespace;
    this.claim = claim;
  }

  void run(Consumer<Check> report) {
    Config config;
    try {
      config = config();
    } catch (RuntimeException e) {
      report.accept(
          Check.fail(
              "cluster",
              "cannot read the kubeconfig ("
                  + problem(e)
                  + "); check it with `kubectl config view`, or pass --kubeconfig"));
      skip(report, "there is no cluster to check", "namespace", "permissions", "artifacts claim");
      return;
    }
    String namespace =
        namespaceOption != null
            ? namespaceOption
            : config.getNamespace() != null ? config.getNamespace() : "default";
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      Check cluster = cluster(client, config);
      report.accept(cluster);
      if (cluster.status() == Check.Status.fail) {
        skip(report, "the cluster is unreachable", "namespace", "permissions", "artifacts claim");
        return;
      }
      Check namespaceCheck = namespace(client, namespace);
      report.accept(namespaceCheck);
      if (namespaceCheck.status() == Check.Status.fail) {
        skip(report, "there is no namespace " + namespace, "permissions", "artifacts claim");
        return;
      }
      permissions(client, namespace, report);
      report.accept(claim(client, namespace));
    }
  }

  /**
   * From {@code --kubeconfig}, or found as kubectl finds it; short timeouts and no retries; every
   * request impersonating {@code --as} when it is given.
   */
  private Config config() {
    Config config =
        kubeconfig != null
            ? Config.fromKubeconfig(kubeconfig.toFile())
            : Config.autoConfigure(null);
    config.setConnectionTimeout(TIMEOUT_MS);
    config.setRequestTimeout(TIMEOUT_MS);
    config.setRequestRetryBackoffLimit(0);
    if (as != null) {
      config.setImpersonateUsername(as);
    }
    return config;
  }

  private static void skip(Consumer<Check> report, String reason, String... checks) {
    for (String check : checks) {
      report.accept(Check.skip(check, reason));
    }
  }

  private Check cluster(KubernetesClient client, Config config) {
    NamedContext context = config.getCurrentContext();
    String where =
        config.getMasterUrl()
            + " ("
            + (context != null
                ? "context " + context.getName()
                : System.getenv("KUBERNETES_SERVICE_HOST") != null
                    ? "this pod's service account"
                    : "no kubeconfig found")
            + (as != null ? ", as " + as : "")
            + ")";
    try {
      VersionInfo version = client.getKubernetesVersion();
      return Check.ok(
          "cluster",
          where
              + ", Kubernetes "
              + (version.getGitVersion() != null
                  ? version.getGitVersion()
                  : version.getMajor() + "." + version.getMinor()));
    } catch (RuntimeException e) {
      return Check.fail(
          "cluster",
          "cannot reach "
              + where
              + ": "
              + problem(e)
              + "; check that the cluster is up and that `kubectl version` works with this"
              + " kubeconfig, or pass --kubeconfig");
    }
  }

  private static Check namespace(KubernetesClient client, String namespace) {
    Namespace found;
    try {
      found = client.namespaces().withName(namespace).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) {
        return Check.skip(
            "namespace",
            "this identity may not read namespace "
                + namespace
                + " (HTTP 403), as usual for one bound to a single namespace; the checks below"
                + " still tell what it may do there");
      }
      return Check.fail("namespace", "cannot read namespace " + namespace + ": " + problem(e));
    }
    String fix =
        "; create it (`kubectl create namespace "
            + namespace
            + "`), or pass --k8s-namespace / set SYLLABUS_K8S_NAMESPACE";
    if (found == null) {
      return Check.fail("namespace", "no namespace " + namespace + fix);
    }
    if (found.getStatus() != null && "Terminating".equals(found.getStatus().getPhase())) {
      return Check.fail("namespace", namespace + " is being deleted (Terminating)" + fix);
    }
    return Check.ok("namespace", namespace + " exists");
  }

  /** One line per resource: the verbs it may use, or those it misses and what they are for. */
  private static void permissions(
      KubernetesClient client, String namespace, Consumer<Check> report) {
    for (Permission permission : Permissions.ALL) {
      List<String> missing = new ArrayList<>();
      try {
        for (String verb : permission.verbs()) {
          if (!allowed(client, namespace, permission, verb)) {
            missing.add(verb);
          }
        }
      } catch (RuntimeException e) {
        report.accept(
            Check.fail(
                "permissions",
                "cannot ask the API server what this identity may do ("
                    + problem(e)
                    + "); it must allow SelfSubjectAccessReviews, as Kubernetes does for every"
                    + " signed-in identity"));
        return;
      }
      String name = "permission " + permission.name();
      if (missing.isEmpty()) {
        report.accept(Check.ok(name, String.join(", ", permission.verbs())));
        continue;
      }
      String detail =
          "missing "
              + String.join(", ", missing)
              + " in namespace "
              + namespace
              + "; needed to "
              + permission.why();
      report.accept(
          permission.optional()
              ? Check.skip(name, detail)
              : Check.fail(name, detail + "; grant them in the worker's Role (deploy/)"));
    }
  }

  private static boolean allowed(
      KubernetesClient client, String namespace, Permission permission, String verb) {
    SelfSubjectAccessReview review =
        new SelfSubjectAccessReviewBuilder()
            .withNewSpec()
            .withNewResourceAttributes()
            .withNamespace(namespace)
            .withGroup(permission.apiGroup())
            .withResource(permission.baseResource())
            .withSubresource(permission.subresource().isEmpty() ? null : permission.subresource())
            .withVerb(verb)
            .endResourceAttributes()
            .endSpec()
            .build();
    SelfSubjectAccessReview answer =
        client.authorization().v1().selfSubjectAccessReview().create(review);
    return answer.getStatus() != null && Boolean.TRUE.equals(answer.getStatus().getAllowed());
  }

  private Check claim(KubernetesClient client, String namespace) {
    String name = "artifacts claim";
    PersistentVolumeClaim pvc;
    try {
      pvc = client.persistentVolumeClaims().inNamespace(namespace).withName(claim).get();
    } catch (RuntimeException e) {
      return Check.fail(name, "cannot read PersistentVolumeClaim " + claim + ": " + problem(e));
    }
    if (pvc == null) {
      return Check.fail(
          name,
          "no PersistentVolumeClaim "
              + claim
              + " in namespace "
              + namespace
              + "; create the artifact store's claim (deploy/), or name yours with"
              + " --artifacts-claim");
    }
    PersistentVolumeClaimStatus status = pvc.getStatus();
    String phase =
        status == null || status.getPhase() == null ? "not bound yet" : status.getPhase();
    if (phase.equals("Bound")) {
      List<String> facts = new ArrayList<>();
      Quantity size = status.getCapacity() == null ? null : status.getCapacity().get("storage");
      if (size != null) {
        facts.add(size.toString());
      }
      if (status.getAccessModes() != null) {
        facts.addAll(status.getAccessModes());
      }
      return Check.ok(
          name,
          claim + " is Bound" + (facts.isEmpty() ? "" : " (" + String.join(", ", facts) + ")"));
    }
    String storageClass = pvc.getSpec() == null ? null : pvc.getSpec().getStorageClassName();
    if (phase.equals("Pending") && bindsOnFirstUse(client, storageClass)) {
      return Check.ok(
          name,
          claim
              + " is Pending until a pod mounts it: its storage class "
              + storageClass
              + " binds volumes on first use");
    }
    return Check.fail(
        name,
        claim
            + " is "
            + phase
            + ", not Bound; `kubectl describe pvc "
            + claim
            + " -n "
            + namespace
            + "` says why");
  }

  /** Whether the storage class binds a claim only once a pod uses it; false when unknown. */
  private static boolean bindsOnFirstUse(KubernetesClient client, String storageClass) {
    if (storageClass == null) {
      return false;
    }
    try {
      StorageClass found = client.storage().v1().storageClasses().withName(storageClass).get();
      return found != null && "WaitForFirstConsumer".equals(found.getVolumeBindingMode());
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** What went wrong, in a few words: the HTTP status and its message, or the root cause. */
  static String problem(RuntimeException e) {
    if (e instanceof KubernetesClientException k && k.getCode() > 0) {
      String message = k.getStatus() != null ? k.getStatus().getMessage() : null;
      return "HTTP " + k.getCode() + (message != null ? ": " + message : "");
    }
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
  }
}
