package dev.syllabus.worker;

import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.Scope;
import dev.syllabus.workflows.SearchKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * A connection to a Temporal service: the workflow client, and the operator calls we need. It tells
 * apart a server that does not answer from one that refuses this client (its certificate, its API
 * key, the TLS handshake), since the fixes differ.
 */
public final class Temporal implements AutoCloseable {

  private final ConnectionSettings settings;
  private final WorkflowServiceStubs service;
  private final WorkflowClient client;

  private Temporal(ConnectionSettings settings, WorkflowServiceStubs service) {
    this.settings = settings;
    this.service = service;
    this.client = WorkflowClient.newInstance(service, settings.clientOptions());
  }

  /** Connects over plain gRPC, as to a dev server. */
  public static Temporal connect(String address, String namespace, Duration timeout) {
    return connect(ConnectionSettings.plain(address, namespace), timeout);
  }

  /**
   * Connects over plain gRPC; the SDK and the workflows report their metrics to {@code metrics}.
   */
  public static Temporal connect(
      String address, String namespace, Duration timeout, Scope metrics) {
    return connect(ConnectionSettings.plain(address, namespace), timeout, metrics);
  }

  /** Connects as {@link #connect(ConnectionSettings, Duration, Scope)}, reporting no metrics. */
  public static Temporal connect(ConnectionSettings settings, Duration timeout) {
    return connect(settings, timeout, new NoopScope());
  }

  /**
   * Connects, failing within {@code timeout} with a message that says what to do; the SDK and the
   * workflows report their metrics to {@code metrics}.
   *
   * @throws ConnectionSettings.BadSetting when a certificate or key cannot be used
   * @throws Refused when the server refuses this client: TLS handshake, API key, certificate
   * @throws Unreachable when nothing answers at the address
   */
  public static Temporal connect(ConnectionSettings settings, Duration timeout, Scope metrics) {
    WorkflowServiceStubs service =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder(settings.serviceStubsOptions())
                .setMetricsScope(metrics)
                .build());
    long started = System.nanoTime();
    try {
      try {
        // One attempt first: a refusal is final, and is better said at once than after the
        // retries meant for a server that is still starting.
        service.healthCheck();
      } catch (StatusRuntimeException first) {
        Duration left = timeout.minusNanos(System.nanoTime() - started);
        if (refusal(first, settings).isPresent() || left.isNegative()) {
          throw first;
        }
        service.connect(left);
      }
      return new Temporal(settings, service);
    } catch (RuntimeException e) {
      service.shutdownNow();
      Optional<String> refused = refusal(e, settings);
      if (refused.isPresent()) {
        throw new Refused(refused.get());
      }
      String why = rootMessage(e);
      if (!settings.tls() && why.contains("Network closed for unknown reason")) {
        // What grpc-java says when it speaks plain HTTP/2 to a TLS port.
        throw new Unreachable(
            "Temporal at "
                + settings.address()
                + " closed the connection without answering ("
                + why
                + "); if it serves TLS, pass --tls (or set TEMPORAL_TLS=true), with --tls-ca-path"
                + " when its certificate is not signed by a CA this machine trusts");
      }
      throw new Unreachable(
          "cannot reach Temporal at "
              + settings.address()
              + " ("
              + why
              + "); "
              + (settings.tls()
                  ? "check the address and that it serves TLS there"
                  : "start one with `syllabus dev`, or pass --address / set TEMPORAL_ADDRESS"));
    }
  }

  /** How this connection was made, for messages and refusals. */
  public ConnectionSettings settings() {
    return settings;
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs service() {
    return service;
  }

  public String address() {
    return settings.address();
  }

  public String namespace() {
    return settings.namespace();
  }

  /** Registers the search attributes runs use, those that are missing; returns those added. */
  public Map<String, IndexedValueType> registerSearchAttributes() {
    OperatorServiceStubs operator = operator();
    try {
      Map<String, IndexedValueType> missing = new LinkedHashMap<>();
      Map<String, IndexedValueType> existing = existingSearchAttributes(operator);
      for (SearchKeys.Definition d : SearchKeys.ALL) {
        if (existing == null || !existing.containsKey(d.name())) {
          missing.put(d.name(), d.type());
        }
      }
      Map<String, IndexedValueType> added = new LinkedHashMap<>();
      for (Map.Entry<String, IndexedValueType> attribute : missing.entrySet()) {
        try {
          operator
              .blockingStub()
              .addSearchAttributes(
                  AddSearchAttributesRequest.newBuilder()
                      .setNamespace(namespace())
                      .putSearchAttributes(attribute.getKey(), attribute.getValue())
                      .build());
          added.put(attribute.getKey(), attribute.getValue());
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS
              && !String.valueOf(e.getStatus().getDescription()).contains("already")) {
            throw e;
          }
        }
      }
      return added;
    } finally {
      operator.shutdown();
    }
  }

  /**
   * The namespace's custom search attributes and their types; empty when this server cannot list
   * them (the SDK's test server).
   */
  public Optional<Map<String, IndexedValueType>> searchAttributes() {
    OperatorServiceStubs operator = operator();
    try {
      return Optional.ofNullable(existingSearchAttributes(operator));
    } finally {
      operator.shutdown();
    }
  }

  /** Operator calls on the same channel, with the same headers: the API key goes along. */
  private OperatorServiceStubs operator() {
    WorkflowServiceStubsOptions options = service.getOptions();
    return OperatorServiceStubs.newServiceStubs(
        OperatorServiceStubsOptions.newBuilder()
            .setChannel(service.getRawChannel())
            .setHeaders(options.getHeaders())
            .setGrpcMetadataProviders(options.getGrpcMetadataProviders())
            .setGrpcClientInterceptors(options.getGrpcClientInterceptors())
            .validateAndBuildWithDefaults());
  }

  /** The custom search attributes, or null when the server cannot list them (the test server). */
  private Map<String, IndexedValueType> existingSearchAttributes(OperatorServiceStubs operator) {
    try {
      ListSearchAttributesResponse response =
          operator
              .blockingStub()
              .listSearchAttributes(
                  ListSearchAttributesRequest.newBuilder().setNamespace(namespace()).build());
      return response.getCustomAttributesMap();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        return null;
      }
      throw e;
    }
  }

  @Override
  public void close() {
    service.shutdown();
    service.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** The innermost cause's message: what a person can act on, without the wrapping. */
  public static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
  }

  /**
   * What the server refused and what to change, when {@code e} (or a cause) is the server or the
   * TLS handshake refusing this client; empty for anything else. {@code settings} name where the
   * credentials came from (may be null when unknown).
   */
  public static Optional<String> refusal(Throwable e, ConnectionSettings settings) {
    String at = settings == null ? "Temporal" : "Temporal at " + settings.address();
    StatusRuntimeException answer = null;
    for (Throwable t = e; t != null && answer == null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException status) {
        answer = status;
      }
    }
    if (answer == null) {
      return Optional.empty(); // not a call to Temporal
    }
    Status.Code code = answer.getStatus().getCode();
    if (code == Status.Code.UNAUTHENTICATED || code == Status.Code.PERMISSION_DENIED) {
      String description = answer.getStatus().getDescription();
      return Optional.of(
          at
              + " refused "
              + credentials(settings)
              + ": "
              + code
              + (description == null ? "" : " " + description));
    }
    for (Throwable t = answer.getCause(); t != null; t = t.getCause()) {
      if (t instanceof SSLException handshake) {
        return Optional.of(handshakeRefusal(at, handshake, settings));
      }
    }
    return Optional.empty();
  }

  /** What this client presented: "the API key from TEMPORAL_API_KEY", "the client certificate". */
  private static String credentials(ConnectionSettings settings) {
    if (settings == null) {
      return "this client's credentials";
    }
    List<String> presented = new ArrayList<>();
    if (settings.hasApiKey()) {
      presented.add("the API key from " + settings.apiKeyOrigin());
    }
    if (settings.hasClientCertificate()) {
      presented.add("the client certificate " + settings.clientCertificateOrigin());
    }
    if (presented.isEmpty()) {
      return "this client, which presented no credentials (pass an API key with --api-key or"
          + " TEMPORAL_API_KEY, or a client certificate with --tls-cert-path and --tls-key-path)";
    }
    return String.join(" and ", presented);
  }

  /** The TLS handshake failed: say which side refused what. */
  private static String handshakeRefusal(String at, SSLException e, ConnectionSettings settings) {
    // The engine's own message can be as vague as "General OpenSslEngine problem"; its causes say
    // what went wrong (a PKIX path, an alert).
    List<String> messages = new ArrayList<>();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !messages.contains(t.getMessage())) {
        messages.add(t.getMessage());
      }
    }
    String message =
        messages.isEmpty() ? e.getClass().getSimpleName() : messages.get(messages.size() - 1);
    String lower = String.join(" / ", messages).toLowerCase(Locale.ROOT);
    if (lower.contains("pkix") || lower.contains("certification path")) {
      String ca = settings == null ? null : settings.serverCaOrigin();
      return "the TLS certificate of "
          + at
          + " is not signed by "
          + (ca != null ? "the CA in " + ca : "a CA this machine trusts")
          + "; pass the CA that signed it with --tls-ca-path (or"
          + " TEMPORAL_TLS_SERVER_CA_CERT_PATH)";
    }
    if (lower.contains("subject alternative") || lower.contains("no name matching")) {
      return "the TLS certificate of "
          + at
          + " is not made out to "
          + (settings == null ? "its host" : settings.serverName())
          + " ("
          + message
          + "); pass the name it has with --tls-server-name (or TEMPORAL_TLS_SERVER_NAME)";
    }
    if (lower.contains("not an ssl/tls record") || lower.contains("unrecognized ssl message")) {
      return at
          + " does not speak TLS, but TLS is on"
          + (settings == null ? "" : " (from " + settings.tlsOrigin() + ")")
          + "; pass --tls=false (or TEMPORAL_TLS=false), or the address of its TLS port";
    }
    if (lower.contains("alert")) {
      boolean certificate = settings != null && settings.hasClientCertificate();
      return at
          + " refused the TLS handshake ("
          + message
          + "): "
          + (certificate
              ? "it does not accept the client certificate "
                  + settings.clientCertificateOrigin()
                  + "; use one signed by a CA the server trusts"
              : "it wants a client certificate (mTLS); pass --tls-cert-path and --tls-key-path"
                  + " (or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)");
    }
    return "the TLS handshake with " + at + " failed: " + String.join(": ", messages);
  }

  /** The server, or the TLS handshake with it, refused this client. */
  public static final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message);
    }
  }

  /** Nothing answered at the address. */
  public static final class Unreachable extends RuntimeException {
    public Unreachable(String message) {
      super(message);
    }
  }
}
