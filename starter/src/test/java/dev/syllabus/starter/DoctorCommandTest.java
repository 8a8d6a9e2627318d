package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syllabus.worker.EmbeddedTemporal;
import dev.syllabus.workflows.SearchKeys;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributes;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatusBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.VersionInfo;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.temporal.api.enums.v1.IndexedValueType;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syllabus doctor}: one line per check, what to do on each failure, exit 1 when one failed.
 * Temporal is the SDK's test server (or, to list search attributes, {@link FakeTemporal}); the
 * cluster is fabric8's mock API server in CRUD mode, reached through a kubeconfig the test writes,
 * answering access reviews with "allowed" except for the verbs a test denies.
 */
@Timeout(120)
@EnableKubernetesMockClient(crud = true, https = false)
class DoctorCommandTest {

  private static EmbeddedTemporal temporal;

  KubernetesMockServer server;
  KubernetesClient client;

  @TempDir Path home;

  /** Access reviews for these ("patch jobs.batch", "get pods/log") are denied. */
  private final Set<String> denied = new HashSet<>();

  /** Who each access review asked for: the {@code Impersonate-User} header, or "null". */
  private final Set<String> askedAs = new HashSet<>();

  @BeforeAll
  static void startTemporal() {
    temporal = EmbeddedTemporal.start(0);
  }

  @AfterAll
  static void stopTemporal() {
    temporal.close();
  }

  @BeforeEach
  void clusterWithANamespaceAndABoundClaim() {
    server.setVersionInfo(
        new VersionInfo.Builder().withMajor("1").withMinor("31").withGitVersion("v1.31.2").build());
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .andReply(201, this::answer)
        .always();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName("ml").endMetadata().build())
        .create();
    createClaim("Bound", null);
  }

  // --- Temporal -------------------------------------------------------------------------------

  @Test
  void unreachableTemporalSaysHowToStartOne() throws Exception {
    String nowhere = "127.0.0.1:" + freePort();
    Cli.Result result = new Cli(home).run("doctor", "--address", nowhere);

    assertEquals(1, result.exitCode(), result.err());
    List<String> lines = lines(result);
    assertTrue(
        lines.get(0).startsWith("FAIL temporal: cannot reach Temporal at " + nowhere + " ("),
        lines.get(0));
    assertTrue(
        lines
            .get(0)
            .endsWith("); start one with `syllabus dev`, or pass --address / set TEMPORAL_ADDRESS"),
        lines.get(0));
    assertEquals("skip search attributes: Temporal is unreachable", lines.get(1));
  }

  @Test
  void theSdkTestServerCannotListSearchAttributes() {
    List<String> lines = lines(doctor());

    assertEquals("ok   temporal: " + temporal.address() + ", namespace default", lines.get(0));
    assertEquals(
        "skip search attributes: this server cannot list them (the SDK's test server, which"
            + " `syllabus dev` runs when the `temporal` CLI is not on PATH); `syllabus worker` and"
            + " `syllabus run` register them",
        lines.get(1));
  }

  @Test
  void registeredSearchAttributesAreOk() throws Exception {
    try (FakeTemporal fake = new FakeTemporal("default", registered(SearchKeys.ALL))) {
      List<String> lines = lines(new Cli(home).run("doctor", "--address", fake.address()));

      assertEquals(
          List.of(
              "ok   temporal: " + fake.address() + ", namespace default, server 1.29.1",
              "ok   search attributes: SyllabusRecipe, SyllabusPhase, SyllabusState, SyllabusStep,"
                  + " SyllabusProgress in namespace default"),
          lines.subList(0, 2));
    }
  }

  @Test
  void missingSearchAttributesAreNamedWithTheCommandThatAddsThem() throws Exception {
    try (FakeTemporal fake =
        new FakeTemporal("default", registered(SearchKeys.ALL.subList(0, 3)))) {
      Cli.Result result = new Cli(home).run("doctor", "--address", fake.address());

      assertEquals(1, result.exitCode());
      assertEquals(
          "FAIL search attributes: missing in namespace default: SyllabusStep (Int),"
              + " SyllabusProgress (Double); add them with `temporal operator search-attribute"
              + " create --address "
              + fake.address()
              + " --namespace default --name SyllabusStep --type Int --name SyllabusProgress"
              + " --type Double`",
          lines(result).get(1));
    }
  }

  @Test
  void aSearchAttributeOfAnotherTypeFails() throws Exception {
    Map<String, IndexedValueType> attributes = registered(SearchKeys.ALL);
    attributes.put("SyllabusStep", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    try (FakeTemporal fake = new FakeTemporal("default", attributes)) {
      Cli.Result result = new Cli(home).run("doctor", "--address", fake.address());

      assertEquals(1, result.exitCode());
      assertEquals(
          "FAIL search attributes: SyllabusStep is Keyword, not Int; runs cannot set them: remove"
              + " them with `temporal operator search-attribute remove --address "
              + fake.address()
              + " --namespace default` and create them again with the right type",
          lines(result).get(1));
    }
  }

  @Test
  void anUnknownTemporalNamespaceFails() throws Exception {
    try (FakeTemporal fake = new FakeTemporal("default", registered(SearchKeys.ALL))) {
      Cli.Result result =
          new Cli(home).run("doctor", "--address", fake.address(), "--namespace", "research");

      assertEquals(1, result.exitCode());
      assertEquals(
          List.of(
              "FAIL temporal: no namespace research at "
                  + fake.address()
                  + "; create it with `temporal operator namespace create --address "
                  + fake.address()
                  + " --namespace research`, or pass --namespace / set TEMPORAL_NAMESPACE",
              "skip search attributes: no namespace research to look in"),
          lines(result).subList(0, 2));
    }
  }

  // --- the local backend ----------------------------------------------------------------------

  @Test
  void aGoodLocalSetUpPassesEveryCheck() throws Exception {
    Cli.Result result = doctor();

    assertEquals(0, result.exitCode(), result.out() + result.err());
    List<String> lines = lines(result);
    assertEquals(5, lines.size(), result.out());
    assertEquals(
        "ok   kubeconfigs: "
            + Cli.REPO.resolve("kubeconfigs")
            + " (frameworks: "
            + frameworks()
            + ")",
        lines.get(2));
    assertTrue(
        lines.get(3).matches("ok   python3: Python 3\\.\\d+\\.\\d+\\S* \\(/\\S+\\)"), lines.get(3));
    assertEquals(
        "ok   artifacts: " + home.resolve("runs") + " will be made in " + home, lines.get(4));
    assertEquals("", result.err());
  }

  @Test
  void anExistingArtifactFolderIsWritable() throws Exception {
    Files.createDirectories(home.resolve("runs"));

    assertEquals(
        "ok   artifacts: " + home.resolve("runs") + " is writable", lines(doctor()).get(4));
    assertEquals(List.of(), listing(home.resolve("runs")), "the probe is gone");
  }

  @Test
  void anArtifactFolderUnderAFileFails() throws Exception {
    Path file = Files.writeString(home.resolve("home"), "not a folder");
    Cli.Result result = new Cli(Cli.REPO, file).run("doctor", "--address", temporal.address());

    assertEquals(1, result.exitCode());
    assertEquals(
        "FAIL artifacts: "
            + file
            + " is not a folder, so "
            + file.resolve("runs")
            + " cannot be made there; set SYLLABUS_HOME to a folder you can write",
        lines(result).get(4));
  }

  @Test
  void noKubeconfigsFolderFails() {
    Path repo = home.resolve("elsewhere");
    Cli.Result result = new Cli(repo, home).run("doctor", "--address", temporal.address());

    assertEquals(1, result.exitCode());
    assertEquals(
        "FAIL kubeconfigs: no folder "
            + repo.resolve("kubeconfigs")
            + "; run syllabus from its checkout, or set SYLLABUS_REPO to the checkout",
        lines(result).get(2));
  }

  @Test
  void jsonIsOneObject() throws Exception {
    Cli.Result result = doctor("--json");

    assertEquals(0, result.exitCode(), result.err());
    JsonNode report = new ObjectMapper().readTree(result.out());
    assertEquals(true, report.get("ok").asBoolean());
    List<String> checks = new ArrayList<>();
    report
        .get("checks")
        .forEach(c -> checks.add(c.get("status").asText() + " " + c.get("name").asText()));
    assertEquals(
        List.of(
            "ok temporal",
            "skip search attributes",
            "ok kubeconfigs",
            "ok python3",
            "ok artifacts"),
        checks);
    assertEquals(
        temporal.address() + ", namespace default",
        report.get("checks").get(0).get("detail").asText());
  }

  @Test
  void clusterOptionsWithTheLocalBackendAreBadInput() {
    Cli.Result result = doctor("--k8s-namespace", "ml");

    assertEquals(2, result.exitCode());
    assertEquals("--k8s-namespace applies to --backend kubernetes only", result.err().strip());
    assertEquals("", result.out());
  }

  @Test
  void anUnknownBackendIsBadInput() {
    assertEquals(2, doctor("--backend", "slurm").exitCode());
  }

  // --- the kubernetes backend -----------------------------------------------------------------

  @Test
  void aGoodClusterPassesEveryCheck() throws Exception {
    Cli.Result result = doctorOnTheCluster();

    assertEquals(0, result.exitCode(), result.out() + result.err());
    assertEquals(
        List.of(
            "ok   cluster: " + server.url("/") + " (context mock), Kubernetes v1.31.2",
            "ok   namespace: ml exists",
            "ok   permission pods: get, list, watch",
            "ok   permission pods/log: get",
            "ok   permission configmaps: create, get, delete",
            "ok   permission services: create, get, delete",
            "ok   permission persistentvolumeclaims: get",
            "ok   permission deployments.apps: create, get, list, watch, patch, delete",
            "ok   permission statefulsets.apps: create, get, list, watch, patch, delete",
            "ok   permission jobs.batch: create, get, list, watch, patch, delete",
            "ok   permission endpointslices.discovery.k8s.io: get, list, watch",
            "ok   permission workloads.kueue.x-k8s.io: get, list, watch, patch",
            "ok   artifacts claim: syllabus-artifacts is Bound (10Gi, ReadWriteMany)"),
        clusterLines(result));
  }

  @Test
  void aDeniedVerbIsNamed() throws Exception {
    denied.add("patch jobs.batch");
    denied.add("delete jobs.batch");
    denied.add("get pods/log");
    Cli.Result result = doctorOnTheCluster();

    assertEquals(1, result.exitCode());
    List<String> lines = clusterLines(result);
    assertEquals(
        "FAIL permission pods/log: missing get in namespace ml; needed to read progress from the"
            + " trainer's log; grant them in the worker's Role (deploy/)",
        lines.get(3));
    assertEquals(
        "FAIL permission jobs.batch: missing patch, delete in namespace ml; needed to run the"
            + " phase's training job, and suspend it on pause; grant them in the worker's Role"
            + " (deploy/)",
        lines.get(9));
  }

  @Test
  void missingKueuePermissionsAreOnlyANote() throws Exception {
    denied.addAll(
        List.of(
            "get workloads.kueue.x-k8s.io",
            "list workloads.kueue.x-k8s.io",
            "watch workloads.kueue.x-k8s.io",
            "patch workloads.kueue.x-k8s.io"));
    Cli.Result result = doctorOnTheCluster();

    assertEquals(0, result.exitCode(), result.out());
    assertEquals(
        "skip permission workloads.kueue.x-k8s.io: missing get, list, watch, patch in namespace ml;"
            + " needed to follow a phase's Kueue workload, only when the phase names a Kueue"
            + " queue",
        clusterLines(result).get(11));
  }

  @Test
  void asChecksWhatTheWorkersServiceAccountMayDo() throws Exception {
    String worker = "system:serviceaccount:ml:syllabus-worker";
    Cli.Result result = doctorOnTheCluster("--as", worker);

    assertEquals(0, result.exitCode(), result.out());
    assertEquals(
        "ok   cluster: "
            + server.url("/")
            + " (context mock, as "
            + worker
            + "), Kubernetes v1.31.2",
        clusterLines(result).get(0));
    assertEquals(Set.of(worker), askedAs);
  }

  @Test
  void aMissingClaimFails() throws Exception {
    Cli.Result result = doctorOnTheCluster("--artifacts-claim", "checkpoints");

    assertEquals(1, result.exitCode());
    assertEquals(
        "FAIL artifacts claim: no PersistentVolumeClaim checkpoints in namespace ml; create the"
            + " artifact store's claim (deploy/), or name yours with --artifacts-claim",
        last(result));
  }

  @Test
  void aPendingClaimSaysItsPhase() throws Exception {
    client.persistentVolumeClaims().inNamespace("ml").withName("syllabus-artifacts").delete();
    createClaim("Pending", "standard");
    Cli.Result result = doctorOnTheCluster();

    assertEquals(1, result.exitCode());
    assertEquals(
        "FAIL artifacts claim: syllabus-artifacts is Pending, not Bound; `kubectl describe pvc"
            + " syllabus-artifacts -n ml` says why",
        last(result));
  }

  @Test
  void aClaimWaitingForItsFirstPodIsFine() throws Exception {
    client.persistentVolumeClaims().inNamespace("ml").withName("syllabus-artifacts").delete();
    createClaim("Pending", "local-path");
    client
        .storage()
        .v1()
        .storageClasses()
        .resource(
            new StorageClassBuilder()
                .withNewMetadata()
                .withName("local-path")
                .endMetadata()
                .withProvisioner("rancher.io/local-path")
                .withVolumeBindingMode("WaitForFirstConsumer")
                .build())
        .create();
    Cli.Result result = doctorOnTheCluster();

    assertEquals(0, result.exitCode(), result.out());
    assertEquals(
        "ok   artifacts claim: syllabus-artifacts is Pending until a pod mounts it: its storage"
            + " class local-path binds volumes on first use",
        last(result));
  }

  @Test
  void aMissingNamespaceFailsAndSkipsTheChecksInIt() throws Exception {
    Cli.Result result = doctorOnTheCluster("--k8s-namespace", "research");

    assertEquals(1, result.exitCode());
    assertEquals(
        List.of(
            "ok   cluster: " + server.url("/") + " (context mock), Kubernetes v1.31.2",
            "FAIL namespace: no namespace research; create it (`kubectl create namespace"
                + " research`), or pass --k8s-namespace / set SYLLABUS_K8S_NAMESPACE",
            "skip permissions: there is no namespace research",
            "skip artifacts claim: there is no namespace research"),
        clusterLines(result));
  }

  @Test
  void aNamespaceThisIdentityMayNotReadIsSkipped() throws Exception {
    server
        .expect()
        .get()
        .withPath("/api/v1/namespaces/ml")
        .andReturn(
            403,
            new StatusBuilder()
                .withCode(403)
                .withReason("Forbidden")
                .withMessage("namespaces \"ml\" is forbidden")
                .build())
        .always();
    Cli.Result result = doctorOnTheCluster();

    assertEquals(0, result.exitCode(), result.out());
    assertEquals(
        "skip namespace: this identity may not read namespace ml (HTTP 403), as usual for one"
            + " bound to a single namespace; the checks below still tell what it may do there",
        clusterLines(result).get(1));
  }

  @Test
  void anUnreachableClusterSkipsTheOtherClusterChecks() throws Exception {
    String nowhere = "http://127.0.0.1:" + freePort();
    Cli.Result result = doctorOnTheCluster(kubeconfig(nowhere));

    assertEquals(1, result.exitCode());
    List<String> lines = clusterLines(result);
    assertTrue(
        lines.get(0).startsWith("FAIL cluster: cannot reach " + nowhere + "/ (context mock): "),
        lines.get(0));
    assertTrue(
        lines
            .get(0)
            .endsWith(
                "; check that the cluster is up and that `kubectl version` works with this"
                    + " kubeconfig, or pass --kubeconfig"),
        lines.get(0));
    assertEquals(
        List.of(
            "skip namespace: the cluster is unreachable",
            "skip permissions: the cluster is unreachable",
            "skip artifacts claim: the cluster is unreachable"),
        lines.subList(1, 4));
  }

  @Test
  void aKubeconfigThatIsNotThereIsBadInput() {
    Cli.Result result =
        doctor("--backend", "kubernetes", "--kubeconfig", home.resolve("nope").toString());

    assertEquals(2, result.exitCode());
    assertEquals("--kubeconfig: no file " + home.resolve("nope"), result.err().strip());
  }

  // --- helpers --------------------------------------------------------------------------------

  private Cli.Result doctor(String... args) {
    List<String> all = new ArrayList<>(List.of("doctor", "--address", temporal.address()));
    all.addAll(List.of(args));
    return new Cli(home).run(all.toArray(String[]::new));
  }

  private Cli.Result doctorOnTheCluster(String... args) throws Exception {
    return doctorOnTheCluster(kubeconfig(server.url("/")), args);
  }

  private Cli.Result doctorOnTheCluster(Path kubeconfig, String... args) {
    List<String> all =
        new ArrayList<>(List.of("--backend", "kubernetes", "--kubeconfig", kubeconfig.toString()));
    all.addAll(List.of(args));
    return doctor(all.toArray(String[]::new));
  }

  /** A kubeconfig whose one context points at {@code server}, in namespace {@code ml}. */
  private Path kubeconfig(String server) throws Exception {
    return Files.writeString(
        home.resolve("kubeconfig"),
        """
        apiVersion: v1
        kind: Config
        clusters:
          - name: mock
            cluster: {server: "%s"}
        users:
          - name: tester
            user: {token: not-a-secret}
        contexts:
          - name: mock
            context: {cluster: mock, user: tester, namespace: ml}
        current-context: mock
        """
            .formatted(server.replaceAll("/$", "")));
  }

  private SelfSubjectAccessReview answer(RecordedRequest request) {
    askedAs.add(String.valueOf(request.getHeader("Impersonate-User")));
    SelfSubjectAccessReview review =
        client
            .getKubernetesSerialization()
            .unmarshal(request.getUtf8Body(), SelfSubjectAccessReview.class);
    ResourceAttributes asked = review.getSpec().getResourceAttributes();
    String name =
        asked.getResource()
            + (asked.getSubresource() == null ? "" : "/" + asked.getSubresource())
            + (asked.getGroup() == null || asked.getGroup().isEmpty()
                ? ""
                : "." + asked.getGroup());
    boolean allowed =
        asked.getNamespace().equals("ml") && !denied.contains(asked.getVerb() + " " + name);
    review.setStatus(new SubjectAccessReviewStatusBuilder().withAllowed(allowed).build());
    return review;
  }

  private void createClaim(String phase, String storageClass) {
    PersistentVolumeClaim claim =
        new PersistentVolumeClaimBuilder()
            .withNewMetadata()
            .withName("syllabus-artifacts")
            .endMetadata()
            .withNewSpec()
            .withStorageClassName(storageClass)
            .withAccessModes("ReadWriteMany")
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .endStatus()
            .build();
    if (phase.equals("Bound")) {
      claim.getStatus().setAccessModes(List.of("ReadWriteMany"));
      claim.getStatus().setCapacity(Map.of("storage", new Quantity("10Gi")));
    }
    client.persistentVolumeClaims().inNamespace("ml").resource(claim).create();
  }

  private static Map<String, IndexedValueType> registered(List<SearchKeys.Definition> keys) {
    Map<String, IndexedValueType> attributes = new LinkedHashMap<>();
    keys.forEach(d -> attributes.put(d.name(), d.type()));
    return attributes;
  }

  private static List<String> lines(Cli.Result result) {
    return result.out().lines().toList();
  }

  /** The lines from the {@code cluster} check on. */
  private static List<String> clusterLines(Cli.Result result) {
    List<String> lines = lines(result);
    int cluster = 0;
    while (cluster < lines.size() && !lines.get(cluster).substring(5).startsWith("cluster:")) {
      cluster++;
    }
    return lines.subList(cluster, lines.size());
  }

  private static String last(Cli.Result result) {
    List<String> lines = lines(result);
    return lines.get(lines.size() - 1);
  }

  private static String frameworks() throws Exception {
    try (Stream<Path> folders = Files.list(Cli.REPO.resolve("kubeconfigs"))) {
      return String.join(
          ", ",
          folders
              .filter(Files::isDirectory)
              .map(p -> p.getFileName().toString())
              .sorted()
              .toList());
    }
  }

  private static List<Path> listing(Path folder) throws Exception {
    try (Stream<Path> files = Files.list(folder)) {
      return files.toList();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
