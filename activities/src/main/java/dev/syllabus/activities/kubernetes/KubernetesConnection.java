package dev.syllabus.activities.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the worker (and {@code syllabus doctor}) reach the cluster: a kubeconfig file ({@code
 * --kubeconfig}, else {@code KUBECONFIG}, else {@code ~/.kube/config}) or, inside a pod, the
 * service account; and which namespace phases run in.
 *
 * @param client the client, with {@link #namespace} as its default namespace
 * @param namespace where the phases' objects are created
 * @param server the API server's URL, for messages
 */
public record KubernetesConnection(KubernetesClient client, String namespace, String server)
    implements AutoCloseable {

  /** The environment variable naming the namespace when {@code --k8s-namespace} is not given. */
  public static final String NAMESPACE_ENV = "SYLLABUS_K8S_NAMESPACE";

  /**
   * @param kubeconfig a kubeconfig file, or null for the usual places and in-cluster config
   * @param namespace the namespace, or null: then {@value #NAMESPACE_ENV}, the kubeconfig context's
   *     namespace (in a pod: the pod's), or {@code default}
   */
  public static KubernetesConnection open(Path kubeconfig, String namespace) {
    return open(kubeconfig, namespace, false);
  }

  /**
   * As {@link #open(Path, String)}, for a command a person waits on: a cluster that does not accept
   * the connection within 5 seconds fails the first request, after two quick retries.
   */
  public static KubernetesConnection openForCommand(Path kubeconfig, String namespace) {
    return open(kubeconfig, namespace, true);
  }

  private static KubernetesConnection open(Path kubeconfig, String namespace, boolean failFast) {
    Config config;
    if (kubeconfig != null) {
      if (!Files.isRegularFile(kubeconfig)) {
        throw new IllegalArgumentException("--kubeconfig: no such file: " + kubeconfig);
      }
      try {
        config = Config.fromKubeconfig(null, Files.readString(kubeconfig), kubeconfig.toString());
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException(
            "--kubeconfig: cannot read " + kubeconfig + ": " + e.getMessage());
      }
    } else {
      config = Config.autoConfigure(null);
    }
    String chosen = namespace;
    if (chosen == null || chosen.isBlank()) {
      chosen = System.getenv(NAMESPACE_ENV);
    }
    if (chosen == null || chosen.isBlank()) {
      chosen = config.getNamespace();
    }
    if (chosen == null || chosen.isBlank()) {
      chosen = "default";
    }
    ConfigBuilder builder = new ConfigBuilder(config).withNamespace(chosen);
    if (failFast) {
      builder.withConnectionTimeout(5_000).withRequestRetryBackoffLimit(2);
    }
    Config withNamespace = builder.build();
    KubernetesClient client = new KubernetesClientBuilder().withConfig(withNamespace).build();
    return new KubernetesConnection(client, chosen, withNamespace.getMasterUrl());
  }

  /**
   * Where this connection came from, for a message: the API server and the kubeconfig's context
   * (and file), or the pod's service account.
   */
  public String describe(Path kubeconfig) {
    Config config = client.getConfiguration();
    String file =
        kubeconfig != null
            ? kubeconfig.toString()
            : System.getenv("KUBECONFIG") != null
                ? System.getenv("KUBECONFIG")
                : Path.of(System.getProperty("user.home"), ".kube", "config").toString();
    if (config.getCurrentContext() != null) {
      return server
          + " (context "
          + config.getCurrentContext().getName()
          + " of kubeconfig "
          + file
          + ")";
    }
    return server
        + (System.getenv("KUBERNETES_SERVICE_HOST") != null
            ? " (this pod's service account)"
            : " (no kubeconfig at " + file + ")");
  }

  @Override
  public void close() {
    client.close();
  }
}
