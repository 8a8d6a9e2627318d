package dev.syllabus.worker;

import dev.syllabus.workflows.SearchKeys;
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
    try {
      WorkflowServiceStubs service =
          WorkflowServiceStubs.newConnectedServiceStubs(
              WorkflowServiceStubsOptions.newBuilder().setTarget(address).build(), timeout);
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
    OperatorServiceStubs operator =
        OperatorServiceStubs.newServiceStubs(
            OperatorServiceStubsOptions.newBuilder()
                .setChannel(service.getRawChannel())
                .validateAndBuildWithDefaults());
    try {
      ListSearchAttributesResponse existing =
          operator
              .blockingStub()
              .listSearchAttributes(
                  ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build());
      Map<String, IndexedValueType> missing = new LinkedHashMap<>();
      for (SearchKeys.Definition d : SearchKeys.ALL) {
        if (!existing.getCustomAttributesMap().containsKey(d.name())) {
          missing.put(d.name(), d.type());
        }
      }
      if (!missing.isEmpty()) {
        operator
            .blockingStub()
            .addSearchAttributes(
                AddSearchAttributesRequest.newBuilder()
                    .setNamespace(namespace)
                    .putAllSearchAttributes(missing)
                    .build());
      }
      return missing;
    } finally {
      operator.shutdown();
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
