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
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** A connection to a Temporal service: the workflow client, and the operator calls we need. */
public final class Temporal implements AutoCloseable {

  private final String address;
  private final String namespace;
  private final WorkflowServiceStubs service;
  private final WorkflowClient client;

  private Temporal(String address, String namespace, WorkflowServiceStubs service) {
    this.address = address;
    this.namespace = namespace;
    this.service = service;
    this.client =
        WorkflowClient.newInstance(
            service, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
  }

  /**
   * Connects, failing within {@code timeout} with a message that says what to do when nothing
   * answers at {@code address}.
   */
  public static Temporal connect(String address, String namespace, Duration timeout) {
    return connect(address, namespace, timeout, new NoopScope());
  }

  /** Connects as above; the SDK and the workflows report their metrics to {@code metrics}. */
  public static Temporal connect(
      String address, String namespace, Duration timeout, Scope metrics) {
    try {
      WorkflowServiceStubs service =
          WorkflowServiceStubs.newConnectedServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget(address)
                  .setMetricsScope(metrics)
                  .build(),
              timeout);
      return new Temporal(address, namespace, service);
    } catch (RuntimeException e) {
      throw new Unreachable(
          "cannot reach Temporal at "
              + address
              + " ("
              + rootMessage(e)
              + "); start one with"
              + " `syllabus dev`, or pass --address / set TEMPORAL_ADDRESS");
    }
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs service() {
    return service;
  }

  public String address() {
    return address;
  }

  public String namespace() {
    return namespace;
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
                      .setNamespace(namespace)
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

  private OperatorServiceStubs operator() {
    return OperatorServiceStubs.newServiceStubs(
        OperatorServiceStubsOptions.newBuilder()
            .setChannel(service.getRawChannel())
            .validateAndBuildWithDefaults());
  }

  /** The custom search attributes, or null when the server cannot list them (the test server). */
  private Map<String, IndexedValueType> existingSearchAttributes(OperatorServiceStubs operator) {
    try {
      ListSearchAttributesResponse response =
          operator
              .blockingStub()
              .listSearchAttributes(
                  ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build());
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

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
  }

  /** Nothing answered at the address. */
  public static final class Unreachable extends RuntimeException {
    public Unreachable(String message) {
      super(message);
    }
  }
}
