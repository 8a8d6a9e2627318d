package dev.syllabus.starter;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.worker.ConnectionSettings;
import dev.syllabus.worker.Temporal;
import dev.syllabus.workflows.SearchKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code syllabus doctor}: the Temporal and local checks live here, the cluster's in {@link
 * ClusterChecks}. Each check reports as soon as it is done, so a slow one shows where it waits.
 */
@Command(
    name = "doctor",
    description = {
      "Check a set-up: Temporal, its search attributes, and what the backend needs.",
      "Prints one line per check: `ok`, `FAIL` with what to do, or `skip` when a check cannot"
          + " apply. Exit 0 when no check failed, 1 when one did."
    })
final class DoctorCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** How long Temporal may take to answer. */
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private static final String SEARCH_ATTRIBUTES = "search attributes";

  /** The backends whose needs can be checked. */
  enum Backend {
    local,
    kubernetes
  }

  @Option(
      names = "--backend",
      defaultValue = "local",
      description = "the backend to check: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  Backend backend;

  @Option(
      names = "--k8s-namespace",
      paramLabel = "NS",
      defaultValue = "${env:SYLLABUS_K8S_NAMESPACE}",
      description =
          "kubernetes: the namespace phases run in (env SYLLABUS_K8S_NAMESPACE; default: the"
              + " kubeconfig context's namespace, in a pod its own, else default)")
  String k8sNamespace;

  @Option(
      names = "--artifacts-claim",
      paramLabel = "NAME",
      defaultValue = "syllabus-artifacts",
      description =
          "kubernetes: the PersistentVolumeClaim of the artifact store (default ${DEFAULT-VALUE})")
  String artifactsClaim;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "kubernetes: the kubeconfig to use (default: as kubectl finds it, KUBECONFIG or"
              + " ~/.kube/config; in a pod, its service account)")
  Path kubeconfig;

  @Option(
      names = "--as",
      paramLabel = "USER",
      description =
          "kubernetes: check what this user may do, impersonated as by `kubectl --as`, e.g."
              + " system:serviceaccount:NS:NAME for the worker's service account (default: the"
              + " kubeconfig's own user)")
  String as;

  @Option(names = "--json", description = "print one JSON object instead of lines")
  boolean json;

  /** What {@code --json} prints. */
  record Report(boolean ok, List<Check> checks) {}

  @Override
  public Integer call() throws JsonProcessingException {
    for (String option : List.of("--kubeconfig", "--k8s-namespace", "--artifacts-claim", "--as")) {
      if (backend == Backend.local
          && spec.commandLine().getParseResult().hasMatchedOption(option)) {
        throw new Exit.BadInput(option + " applies to --backend kubernetes only");
      }
    }
    if (kubeconfig != null && !Files.isRegularFile(kubeconfig)) {
      throw new Exit.BadInput("--kubeconfig: no file " + kubeconfig);
    }
    PrintWriter out = spec.commandLine().getOut();
    List<Check> checks = new ArrayList<>();
    Consumer<Check> report =
        check -> {
          checks.add(check);
          if (!json) {
            out.println(check.line());
            out.flush();
          }
        };

    checkTemporal(report);
    report.accept(kubeconfigs());
    switch (backend) {
      case local -> {
        report.accept(python());
        report.accept(artifactFolder());
      }
      case kubernetes ->
          new ClusterChecks(kubeconfig, as, k8sNamespace, artifactsClaim).run(report);
    }

    boolean ok = checks.stream().noneMatch(c -> c.status() == Check.Status.fail);
    if (json) {
      out.println(RunView.JSON.writeValueAsString(new Report(ok, checks)));
    }
    return ok ? Exit.OK : Exit.FAILED;
  }

  // --- Temporal -------------------------------------------------------------------------------

  private void checkTemporal(Consumer<Check> report) {
    Temporal temporal;
    try {
      temporal = Temporal.connect(parent.temporal.settings(), TIMEOUT);
    } catch (ConnectionSettings.BadSetting e) {
      throw new Exit.BadInput(e.getMessage());
    } catch (Temporal.Refused e) {
      report.accept(Check.fail("temporal", e.getMessage()));
      report.accept(Check.skip(SEARCH_ATTRIBUTES, "Temporal refused this client"));
      return;
    } catch (Temporal.Unreachable e) {
      report.accept(Check.fail("temporal", e.getMessage()));
      report.accept(Check.skip(SEARCH_ATTRIBUTES, "Temporal is unreachable"));
      return;
    }
    try (temporal) {
      WorkflowServiceGrpc.WorkflowServiceBlockingStub stub =
          temporal
              .service()
              .blockingStub()
              .withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      try {
        stub.describeNamespace(
            DescribeNamespaceRequest.newBuilder().setNamespace(temporal.namespace()).build());
      } catch (StatusRuntimeException e) {
        Optional<String> refused = Temporal.refusal(e, temporal.settings());
        if (refused.isPresent()) {
          report.accept(Check.fail("temporal", refused.get()));
          report.accept(Check.skip(SEARCH_ATTRIBUTES, "Temporal refused this client"));
          return;
        }
        boolean missing = e.getStatus().getCode() == Status.Code.NOT_FOUND;
        report.accept(
            Check.fail(
                "temporal",
                missing
                    ? noNamespace(temporal)
                    : "cannot read namespace "
                        + temporal.namespace()
                        + " at "
                        + temporal.address()
                        + " ("
                        + e.getStatus()
                        + ")"));
        report.accept(
            Check.skip(
                SEARCH_ATTRIBUTES,
                (missing ? "no namespace " : "cannot read namespace ")
                    + temporal.namespace()
                    + " to look in"));
        return;
      }
      report.accept(
          Check.ok(
              "temporal",
              temporal.address()
                  + ", namespace "
                  + temporal.namespace()
                  + how(temporal.settings())
                  + serverVersion(stub)));
      report.accept(searchAttributes(temporal));
    }
  }

  private static String noNamespace(Temporal temporal) {
    return "no namespace "
        + temporal.namespace()
        + " at "
        + temporal.address()
        + "; create it with `temporal operator namespace create --address "
        + temporal.address()
        + " --namespace "
        + temporal.namespace()
        + "`, or pass --namespace / set TEMPORAL_NAMESPACE";
  }

  /** {@code ", mTLS, API key"}: how the client connected; empty for plain gRPC. */
  private static String how(ConnectionSettings settings) {
    String how = "";
    if (settings.tls()) {
      how += settings.hasClientCertificate() ? ", mTLS" : ", TLS";
    }
    if (settings.hasApiKey()) {
      how += ", API key";
    }
    return how;
  }

  /** {@code ", server 1.29.1"}; empty when the server does not say (the SDK's test server). */
  private static String serverVersion(WorkflowServiceGrpc.WorkflowServiceBlockingStub stub) {
    try {
      String version =
          stub.getSystemInfo(GetSystemInfoRequest.getDefaultInstance()).getServerVersion();
      return version.isEmpty() ? "" : ", server " + version;
    } catch (RuntimeException e) {
      return "";
    }
  }

  /** The attributes runs set, each registered with its type. */
  private static Check searchAttributes(Temporal temporal) {
    Optional<Map<String, IndexedValueType>> listed;
    try {
      listed = temporal.searchAttributes();
    } catch (RuntimeException e) {
      return Check.fail(
          SEARCH_ATTRIBUTES,
          "cannot list them in namespace " + temporal.namespace() + " (" + e.getMessage() + ")");
    }
    if (listed.isEmpty()) {
      return Check.skip(
          SEARCH_ATTRIBUTES,
          "this server cannot list them (the SDK's test server, which `syllabus dev` runs when"
              + " the `temporal` CLI is not on PATH); `syllabus worker` and `syllabus run`"
              + " register them");
    }
    List<SearchKeys.Definition> missing = new ArrayList<>();
    List<String> mistyped = new ArrayList<>();
    for (SearchKeys.Definition d : SearchKeys.ALL) {
      IndexedValueType registered = listed.get().get(d.name());
      if (registered == null) {
        missing.add(d);
      } else if (registered != d.type()) {
        mistyped.add(d.name() + " is " + typeName(registered) + ", not " + typeName(d.type()));
      }
    }
    String where = "--address " + temporal.address() + " --namespace " + temporal.namespace();
    List<String> problems = new ArrayList<>();
    if (!missing.isEmpty()) {
      problems.add(
          "missing in namespace "
              + temporal.namespace()
              + ": "
              + missing.stream()
                  .map(d -> d.name() + " (" + typeName(d.type()) + ")")
                  .collect(Collectors.joining(", "))
              + "; add them with `temporal operator search-attribute create "
              + where
              + missing.stream()
                  .map(d -> " --name " + d.name() + " --type " + typeName(d.type()))
                  .collect(Collectors.joining())
              + "`");
    }
    if (!mistyped.isEmpty()) {
      problems.add(
          String.join(", ", mistyped)
              + "; runs cannot set them: remove them with `temporal operator search-attribute"
              + " remove "
              + where
              + "` and create them again with the right type");
    }
    if (!problems.isEmpty()) {
      return Check.fail(SEARCH_ATTRIBUTES, String.join("; ", problems));
    }
    return Check.ok(
        SEARCH_ATTRIBUTES,
        SearchKeys.ALL.stream().map(SearchKeys.Definition::name).collect(Collectors.joining(", "))
            + " in namespace "
            + temporal.namespace());
  }

  /** The type as the {@code temporal} CLI names it: {@code Keyword}, {@code KeywordList}. */
  private static String typeName(IndexedValueType type) {
    return Arrays.stream(type.name().replace("INDEXED_VALUE_TYPE_", "").split("_"))
        .map(w -> w.charAt(0) + w.substring(1).toLowerCase(Locale.ROOT))
        .collect(Collectors.joining());
  }

  // --- files and programs ---------------------------------------------------------------------

  /** The framework manifests that phases are rendered from: needed by every backend. */
  private Check kubeconfigs() {
    Path root = parent.paths.kubeconfigs();
    if (!Files.isDirectory(root)) {
      return Check.fail(
          "kubeconfigs",
          "no folder "
              + root
              + "; run syllabus from its checkout, or set SYLLABUS_REPO to the checkout");
    }
    try {
      List<String> frameworks =
          new Kubeconfigs(root).catalog().frameworks().keySet().stream().sorted().toList();
      if (frameworks.isEmpty()) {
        return Check.fail(
            "kubeconfigs",
            root
                + " holds no framework folders; run syllabus from its checkout, or set"
                + " SYLLABUS_REPO to the checkout");
      }
      return Check.ok("kubeconfigs", root + " (frameworks: " + String.join(", ", frameworks) + ")");
    } catch (RuntimeException e) {
      return Check.fail("kubeconfigs", e.getMessage());
    }
  }

  /** The local backend runs trainers as processes, the tiny trainer with {@code python3}. */
  private static Check python() {
    Optional<Path> python = onPath("python3");
    if (python.isEmpty()) {
      return Check.fail(
          "python3",
          "not on PATH; the local backend runs trainers such as the tiny one of `syllabus demo`"
              + " with it: install Python 3");
    }
    try {
      Process process =
          new ProcessBuilder(python.get().toString(), "--version")
              .redirectErrorStream(true)
              .start();
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return Check.fail("python3", python.get() + " --version did not answer within 10 s");
      }
      String version =
          new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (process.exitValue() != 0) {
        return Check.fail(
            "python3",
            python.get() + " --version failed (exit " + process.exitValue() + "): " + version);
      }
      return Check.ok("python3", version + " (" + python.get() + ")");
    } catch (IOException e) {
      return Check.fail("python3", "cannot run " + python.get() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Check.fail("python3", "interrupted");
    }
  }

  private static Optional<Path> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    return Arrays.stream(path.split(File.pathSeparator))
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, program))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /**
   * The local backend's artifact store: writable, or it can be made in the nearest folder there is.
   * The probe file is removed again, so the check leaves nothing behind.
   */
  private Check artifactFolder() {
    Path runs = parent.paths.runs();
    Path existing = runs;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    String fix = "; set SYLLABUS_HOME to a folder you can write";
    if (existing == null || !Files.isDirectory(existing)) {
      return Check.fail(
          "artifacts", existing + " is not a folder, so " + runs + " cannot be made there" + fix);
    }
    try {
      Files.delete(Files.createTempFile(existing, ".syllabus-doctor-", ""));
    } catch (IOException e) {
      return Check.fail(
          "artifacts", "cannot write in " + existing + " (" + e.getMessage() + ")" + fix);
    }
    return Check.ok(
        "artifacts",
        existing.equals(runs) ? runs + " is writable" : runs + " will be made in " + existing);
  }
}
