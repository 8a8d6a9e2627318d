package dev.syllabus.activities.kubernetes.sim;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The EndpointSlice controller (discovery.k8s.io/v1): one slice per Service with a selector,
 * labelled {@code kubernetes.io/service-name}, listing the pods the selector matches that have an
 * IP, each with {@code conditions.ready}, {@code serving} and {@code terminating}. A Service that
 * selects nothing keeps an empty slice, as the real controller's placeholder.
 */
final class EndpointSliceController {
  static final String SERVICE_NAME = "kubernetes.io/service-name";
  private static final String MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
  private static final String CONTROLLER = "endpointslice-controller.k8s.io";

  private final KubernetesClient api;

  EndpointSliceController(KubernetesClient api) {
    this.api = api;
  }

  void sync() {
    List<Service> services = api.services().inAnyNamespace().list().getItems();
    List<EndpointSlice> slices =
        api.discovery().v1().endpointSlices().inAnyNamespace().list().getItems();
    List<Pod> pods = api.pods().inAnyNamespace().list().getItems();
    for (Service service : services) {
      if (Kube.deleting(service)
          || service.getSpec().getSelector() == null
          || service.getSpec().getSelector().isEmpty()) {
        continue;
      }
      String namespace = service.getMetadata().getNamespace();
      List<Pod> selected =
          pods.stream()
              .filter(p -> namespace.equals(p.getMetadata().getNamespace()))
              .filter(
                  p -> Kube.matches(service.getSpec().getSelector(), p.getMetadata().getLabels()))
              .filter(p -> p.getStatus() != null && p.getStatus().getPodIP() != null)
              .filter(p -> !Kube.terminal(p))
              .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
              .toList();
      List<Endpoint> endpoints = selected.stream().map(EndpointSliceController::endpoint).toList();
      List<EndpointPort> ports =
          service.getSpec().getPorts().stream().map(port -> port(port, selected)).toList();
      EndpointSlice existing =
          slices.stream()
              .filter(s -> service.getMetadata().getUid().equals(Kube.controllerUid(s, "Service")))
              .findFirst()
              .orElse(null);
      if (existing == null) {
        String name = service.getMetadata().getName();
        EndpointSlice slice =
            new EndpointSliceBuilder()
                .withNewMetadata()
                .withName(name + "-" + Kube.randomSuffix(5))
                .withGenerateName(name + "-")
                .withNamespace(namespace)
                .addToLabels(labels(service))
                .addToLabels(SERVICE_NAME, name)
                .addToLabels(MANAGED_BY, CONTROLLER)
                .addToAnnotations("endpoints.kubernetes.io/last-change-trigger-time", Kube.now())
                .withOwnerReferences(Kube.controllerRef(service))
                .endMetadata()
                .withAddressType("IPv4")
                .withEndpoints(endpoints)
                .withPorts(ports)
                .build();
        api.discovery().v1().endpointSlices().inNamespace(namespace).resource(slice).create();
      } else if (!Kube.same(endpoints, existing.getEndpoints())
          || !Kube.same(ports, existing.getPorts())
          || !existing
              .getMetadata()
              .getLabels()
              .entrySet()
              .containsAll(labels(service).entrySet())) {
        EndpointSlice slice = Kube.copy(existing);
        slice.getMetadata().getLabels().putAll(labels(service));
        slice.setEndpoints(endpoints);
        slice.setPorts(ports);
        slice
            .getMetadata()
            .getAnnotations()
            .put("endpoints.kubernetes.io/last-change-trigger-time", Kube.now());
        api.discovery().v1().endpointSlices().inNamespace(namespace).resource(slice).update();
      }
    }
  }

  /**
   * The Service's own labels, which the real controller copies onto its slices (its
   * setEndpointSliceLabels), except the two it sets itself.
   */
  private static Map<String, String> labels(Service service) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    if (service.getMetadata().getLabels() != null) {
      out.putAll(service.getMetadata().getLabels());
    }
    out.remove(SERVICE_NAME);
    out.remove(MANAGED_BY);
    return out;
  }

  private static Endpoint endpoint(Pod pod) {
    boolean ready =
        pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    boolean terminating = Kube.deleting(pod);
    return new EndpointBuilder()
        .withAddresses(pod.getStatus().getPodIP())
        .withNewConditions()
        .withReady(ready && !terminating)
        .withServing(ready)
        .withTerminating(terminating)
        .endConditions()
        .withNodeName(pod.getSpec().getNodeName())
        .withTargetRef(
            new ObjectReferenceBuilder()
                .withKind("Pod")
                .withName(pod.getMetadata().getName())
                .withNamespace(pod.getMetadata().getNamespace())
                .withUid(pod.getMetadata().getUid())
                .build())
        .build();
  }

  /** A Service port as the slice lists it: the target port, a named one looked up in the pods. */
  private static EndpointPort port(ServicePort port, List<Pod> pods) {
    IntOrString target = port.getTargetPort();
    Integer number = port.getPort();
    if (target != null && target.getIntVal() != null) {
      number = target.getIntVal();
    } else if (target != null && target.getStrVal() != null) {
      number =
          pods.stream()
              .flatMap(p -> p.getSpec().getContainers().stream())
              .map(Container::getPorts)
              .flatMap(List::stream)
              .filter(p -> target.getStrVal().equals(p.getName()))
              .map(ContainerPort::getContainerPort)
              .findFirst()
              .orElse(null);
    }
    return new EndpointPortBuilder()
        .withName(Objects.requireNonNullElse(port.getName(), ""))
        .withPort(number)
        .withProtocol(Objects.requireNonNullElse(port.getProtocol(), "TCP"))
        .build();
  }
}
