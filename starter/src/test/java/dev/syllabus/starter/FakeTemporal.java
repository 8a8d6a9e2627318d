package dev.syllabus.starter;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesResponse;
import io.temporal.api.operatorservice.v1.OperatorServiceGrpc;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceResponse;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.IOException;
import java.util.Map;

/**
 * A Temporal frontend that answers only what {@code syllabus doctor} asks: its health and version,
 * one namespace, and that namespace's search attributes. The SDK's test server cannot list search
 * attributes, so this is what the search-attribute checks are tested against.
 */
final class FakeTemporal implements AutoCloseable {

  static final String VERSION = "1.29.1";

  private final Server server;

  FakeTemporal(String namespace, Map<String, IndexedValueType> searchAttributes)
      throws IOException {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus(WorkflowServiceGrpc.SERVICE_NAME, HealthCheckResponse.ServingStatus.SERVING);
    server =
        ServerBuilder.forPort(0)
            .addService(health.getHealthService())
            .addService(
                new WorkflowServiceGrpc.WorkflowServiceImplBase() {
                  @Override
                  public void getSystemInfo(
                      GetSystemInfoRequest request,
                      StreamObserver<GetSystemInfoResponse> response) {
                    response.onNext(
                        GetSystemInfoResponse.newBuilder().setServerVersion(VERSION).build());
                    response.onCompleted();
                  }

                  @Override
                  public void describeNamespace(
                      DescribeNamespaceRequest request,
                      StreamObserver<DescribeNamespaceResponse> response) {
                    if (!request.getNamespace().equals(namespace)) {
                      response.onError(
                          Status.NOT_FOUND
                              .withDescription(
                                  "Namespace " + request.getNamespace() + " is not found.")
                              .asRuntimeException());
                      return;
                    }
                    response.onNext(DescribeNamespaceResponse.getDefaultInstance());
                    response.onCompleted();
                  }
                })
            .addService(
                new OperatorServiceGrpc.OperatorServiceImplBase() {
                  @Override
                  public void listSearchAttributes(
                      ListSearchAttributesRequest request,
                      StreamObserver<ListSearchAttributesResponse> response) {
                    response.onNext(
                        ListSearchAttributesResponse.newBuilder()
                            .putAllCustomAttributes(searchAttributes)
                            .build());
                    response.onCompleted();
                  }
                })
            .build()
            .start();
  }

  String address() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
