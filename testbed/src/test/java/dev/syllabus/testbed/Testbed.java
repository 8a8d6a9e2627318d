package dev.syllabus.testbed;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;

/**
 * The testbed for the integration tests: started once per test JVM with {@code testbed/up} (its own
 * folder and ports, so that a developer's testbed can stay up beside it) and stopped with {@code
 * testbed/down} when the JVM exits. Without the testbed's programs built ({@code testbed/build})
 * the tests are skipped, unless {@code SYLLABUS_REQUIRE_TESTBED} is set, as {@code .ci/run} sets
 * it.
 *
 * <p>Each test gets a namespace of its own, set up as {@code deploy/} sets up the worker's: the
 * ServiceAccount, Role and RoleBinding (and Kueue's), the artifact claim {@code syllabus-artifacts}
 * bound to a volume on a folder of the test's, and the {@code hf-token} Secret. The worker's client
 * authenticates as that ServiceAccount, with a token from the API server.
 */
final class Testbed {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path DIR = REPO.resolve("testbed/target/testbed");

  /**
   * The testbed's first port, 26440 unless {@code SYLLABUS_TESTBED_PORT_BASE} says otherwise (so
   * that two checkouts can run their integration tests side by side).
   */
  static final int PORT_BASE = portBase("SYLLABUS_TESTBED_PORT_BASE", 26440);

  static final String CLUSTER_QUEUE = "gpus";
  static final int GPUS_PER_NODE = 8;

  static final ResourceDefinitionContext LOCAL_QUEUES =
      new ResourceDefinitionContext.Builder()
          .withGroup("kueue.x-k8s.io")
          .withVersion("v1beta2")
          .withKind("LocalQueue")
          .withPlural("localqueues")
          .withNamespaced(true)
          .build();

  static final ResourceDefinitionContext CLUSTER_QUEUES =
      new ResourceDefinitionContext.Builder()
          .withGroup("kueue.x-k8s.io")
          .withVersion("v1beta2")
          .withKind("ClusterQueue")
          .withPlural("clusterqueues")
          .withNamespaced(false)
          .build();

  private static Testbed running;
  private static RuntimeException failed;

  final Config adminConfig;
  final KubernetesClient admin;

  private Testbed(Config adminConfig) {
    this.adminConfig = adminConfig;
    this.admin = new KubernetesClientBuilder().withConfig(adminConfig).build();
  }

  /** The testbed, started on first use; the calling test is skipped when it cannot be had. */
  static synchronized Testbed get() {
    if (failed != null) {
      throw failed;
    }
    if (running == null) {
      try {
        running = start();
      } catch (IllegalStateException e) {
        failed = e;
        throw e;
      }
    }
    return running;
  }

  private static Testbed start() {
    boolean required = System.getenv("SYLLABUS_REQUIRE_TESTBED") != null;
    int built = run(List.of(REPO.resolve("testbed/build").toString(), "--check"), null);
    if (built != 0) {
      String why =
          "the testbed's programs are not built: run testbed/build (about 12 minutes the first"
              + " time) to run the kubernetes backend's integration tests";
      if (required) {
        throw new IllegalStateException(why + " (SYLLABUS_REQUIRE_TESTBED is set)");
      }
      Assumptions.abort(why);
    }
    try {
      Files.createDirectories(DIR);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path log = DIR.getParent().resolve("testbed-up.log");
    int status =
        run(
            List.of(
                REPO.resolve("testbed/up").toString(),
                "--dir",
                DIR.toString(),
                "--port-base",
                Integer.toString(PORT_BASE),
                "--gpus",
                Integer.toString(GPUS_PER_NODE)),
            log);
    if (status != 0) {
      throw new IllegalStateException("testbed/up failed (exit " + status + "); see " + log);
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () ->
                    run(
                        List.of(REPO.resolve("testbed/down").toString(), "--dir", DIR.toString()),
                        null)));
    try {
      return new Testbed(Config.fromKubeconfig(Files.readString(DIR.resolve("kubeconfig"))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int portBase(String variable, int otherwise) {
    String value = System.getenv(variable);
    return value == null || value.isBlank() ? otherwise : Integer.parseInt(value.strip());
  }

  private static int run(List<String> command, Path log) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(
          log == null
              ? ProcessBuilder.Redirect.DISCARD
              : ProcessBuilder.Redirect.appendTo(log.toFile()));
      Process p = builder.start();
      if (!p.waitFor(40, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A namespace set up for a worker by {@code testbed/namespace}, as {@code deploy/} sets one up,
   * with its artifact claim bound to {@code artifacts} and a LocalQueue team-a on the ClusterQueue
   * gpus.
   */
  String newNamespace(String prefix, Path artifacts) {
    String ns = prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30), 36);
    Path log = DIR.getParent().resolve("testbed-namespace.log");
    int status =
        run(
            List.of(
                REPO.resolve("testbed/namespace").toString(),
                ns,
                "--artifacts",
                artifacts.toString(),
                "--dir",
                DIR.toString()),
            log);
    if (status != 0) {
      throw new IllegalStateException("testbed/namespace failed (exit " + status + "); see " + log);
    }
    return ns;
  }

  /**
   * Adds a fake GPU node as {@code testbed/up} makes {@code gpu-node-0}: kwok plays it (the
   * annotation {@code kwok.x-k8s.io/node: fake}), with {@value #GPUS_PER_NODE} GPUs, 192 CPUs and 2
   * TiB; returns once it is Ready. The caller deletes it ({@link #deleteNode}), since other tests
   * count on the one node {@code testbed/up} made.
   */
  void addNode(String name) {
    Map<String, Quantity> resources =
        Map.of(
            "cpu", new Quantity("192"),
            "memory", new Quantity("2Ti"),
            "ephemeral-storage", new Quantity("30Ti"),
            "pods", new Quantity("110"),
            "nvidia.com/gpu", new Quantity(Integer.toString(GPUS_PER_NODE)));
    admin
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(name)
                .addToAnnotations("kwok.x-k8s.io/node", "fake")
                .addToLabels("kubernetes.io/hostname", name)
                .addToLabels("kubernetes.io/os", "linux")
                .addToLabels("kubernetes.io/arch", "amd64")
                .addToLabels("nvidia.com/gpu.present", "true")
                .endMetadata()
                .withNewStatus()
                .withCapacity(resources)
                .withAllocatable(resources)
                .endStatus()
                .build())
        .create();
    eventually(
        "node " + name + " is Ready",
        Duration.ofMinutes(1),
        () -> {
          Node node = admin.nodes().withName(name).get();
          return node != null
              && node.getStatus().getConditions() != null
              && node.getStatus().getConditions().stream()
                  .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        });
  }

  /** Deletes a node {@link #addNode} made, and waits until it is gone. */
  void deleteNode(String name) {
    admin.nodes().withName(name).delete();
    eventually(
        "node " + name + " is gone",
        Duration.ofMinutes(1),
        () -> admin.nodes().withName(name).get() == null);
  }

  /**
   * Creates ClusterQueue {@code name}: a quota of {@code gpus} GPUs (and 192 CPUs, 2 Ti of memory)
   * on the flavor gpu, for every namespace; with {@code preemption} (Kueue's policy, e.g. {@code
   * withinClusterQueue: LowerPriority}) unless it is empty.
   */
  void clusterQueue(String name, int gpus, Map<String, Object> preemption) {
    Map<String, Object> spec = new java.util.LinkedHashMap<>();
    spec.put("namespaceSelector", Map.of());
    if (!preemption.isEmpty()) {
      spec.put("preemption", preemption);
    }
    spec.put(
        "resourceGroups",
        List.of(
            Map.of(
                "coveredResources",
                List.of("cpu", "memory", "nvidia.com/gpu"),
                "flavors",
                List.of(
                    Map.of(
                        "name",
                        "gpu",
                        "resources",
                        List.of(
                            Map.of("name", "cpu", "nominalQuota", "192"),
                            Map.of("name", "memory", "nominalQuota", "2Ti"),
                            Map.of(
                                "name",
                                "nvidia.com/gpu",
                                "nominalQuota",
                                Integer.toString(gpus))))))));
    GenericKubernetesResource queue =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("kueue.x-k8s.io/v1beta2")
            .withKind("ClusterQueue")
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .addToAdditionalProperties("spec", spec)
            .build();
    admin.genericKubernetesResources(CLUSTER_QUEUES).resource(queue).create();
  }

  /** A Kueue LocalQueue in {@code ns} that feeds {@code clusterQueue}. */
  void localQueue(String ns, String name, String clusterQueue) {
    GenericKubernetesResource queue =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("kueue.x-k8s.io/v1beta2")
            .withKind("LocalQueue")
            .withNewMetadata()
            .withName(name)
            .withNamespace(ns)
            .endMetadata()
            .addToAdditionalProperties("spec", Map.of("clusterQueue", clusterQueue))
            .build();
    admin.genericKubernetesResources(LOCAL_QUEUES).inNamespace(ns).resource(queue).create();
  }

  /**
   * A client that acts as the worker's ServiceAccount in {@code ns}, with its Role's rights only
   * (the kubeconfig {@code testbed/namespace} wrote).
   */
  KubernetesClient workerClient(String ns) {
    try {
      Path kubeconfig = DIR.resolve("namespaces").resolve(ns + ".kubeconfig");
      return new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Deletes the namespace (the namespace controller deletes what is in it) and its volume, once its
   * pods are gone, so that no program still writes to the test's folder.
   */
  void deleteNamespace(String ns) {
    admin.namespaces().withName(ns).delete();
    eventually(
        "the pods of " + ns + " are gone",
        Duration.ofMinutes(2),
        () -> admin.pods().inNamespace(ns).list().getItems().isEmpty());
    admin.persistentVolumes().withName(ns + "-artifacts").delete();
  }

  static void eventually(String what, Duration within, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after " + within.toSeconds() + " s waiting until " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
