package dev.syllabus.activities.kubernetes;

import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.util.List;

/**
 * What the worker may do in its namespace with the {@code kubernetes} backend, and why: the one
 * list that the Role in {@code deploy/} and {@code syllabus doctor} are checked against. A change
 * to what the backend calls is a change here.
 */
public final class Permissions {

  /**
   * Access to one kind of object.
   *
   * @param apiGroup the API group, {@code ""} for the core group
   * @param resource the plural resource, with its subresource if any: {@code pods/log}
   * @param verbs what the worker does with it
   * @param why what the worker needs it for, for people reading a failed check
   * @param optional needed only by some recipes: a cluster without it still runs the others
   */
  public record Permission(
      String apiGroup, String resource, List<String> verbs, String why, boolean optional) {

    public Permission {
      verbs = List.copyOf(verbs);
    }

    /** The name kubectl uses: {@code pods/log}, {@code jobs.batch}, {@code deployments.apps}. */
    public String name() {
      if (apiGroup.isEmpty()) {
        return resource;
      }
      String sub = subresource();
      return baseResource() + "." + apiGroup + (sub.isEmpty() ? "" : "/" + sub);
    }

    /** The resource without its subresource: {@code pods} for {@code pods/log}. */
    public String baseResource() {
      int slash = resource.indexOf('/');
      return slash < 0 ? resource : resource.substring(0, slash);
    }

    /** The subresource, {@code log} for {@code pods/log}; empty when there is none. */
    public String subresource() {
      int slash = resource.indexOf('/');
      return slash < 0 ? "" : resource.substring(slash + 1);
    }
  }

  /** Everything the worker needs, the optional ones last. */
  public static final List<Permission> ALL =
      List.of(
          needed("", "pods", "follow the phase's pods", "get", "list", "watch"),
          needed("", "pods/log", "read progress from the trainer's log", "get"),
          needed("", "configmaps", "hold the phase's config", "create", "get", "delete"),
          needed("", "services", "reach the servers of GRPO phases", "create", "get", "delete"),
          needed("", "persistentvolumeclaims", "check the artifact PVC", "get"),
          needed(
              "apps",
              "deployments",
              "run the servers of a phase (e.g. vLLM), and scale them to zero on pause",
              "create",
              "get",
              "list",
              "watch",
              "patch",
              "delete"),
          needed(
              "apps",
              "statefulsets",
              "run servers that need stable names, and scale them to zero on pause",
              "create",
              "get",
              "list",
              "watch",
              "patch",
              "delete"),
          needed(
              "batch",
              "jobs",
              "run the phase's training job, and suspend it on pause",
              "create",
              "get",
              "list",
              "watch",
              "patch",
              "delete"),
          needed(
              "discovery.k8s.io",
              "endpointslices",
              "know when a phase's servers are ready",
              "get",
              "list",
              "watch"),
          new Permission(
              "kueue.x-k8s.io",
              "workloads",
              List.of("get", "list", "watch", "patch"),
              "follow a phase's Kueue workload, only when the phase names a Kueue queue",
              true));

  private Permissions() {}

  /**
   * The permissions as an {@code rbac.authorization.k8s.io/v1} Role, one rule per resource, the
   * optional ones included (a rule for an API group the cluster does not serve is harmless).
   */
  public static Role role(String name) {
    return new RoleBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withRules(
            ALL.stream()
                .map(
                    p ->
                        new PolicyRuleBuilder()
                            .withApiGroups(p.apiGroup())
                            .withResources(p.resource())
                            .withVerbs(p.verbs())
                            .build())
                .toList())
        .build();
  }

  private static Permission needed(String apiGroup, String resource, String why, String... verbs) {
    return new Permission(apiGroup, resource, List.of(verbs), why, false);
  }
}
