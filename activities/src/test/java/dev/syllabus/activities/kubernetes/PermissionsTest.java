package dev.syllabus.activities.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class PermissionsTest {

  @Test
  void theRoleHasOneRulePerPermission() {
    Role role = Permissions.role("syllabus-worker");

    assertEquals("rbac.authorization.k8s.io/v1", role.getApiVersion());
    assertEquals("Role", role.getKind());
    assertEquals("syllabus-worker", role.getMetadata().getName());
    assertEquals(Permissions.ALL.size(), role.getRules().size());
    PolicyRule jobs = role.getRules().get(Permissions.ALL.indexOf(permission("jobs.batch")));
    assertEquals(List.of("batch"), jobs.getApiGroups());
    assertEquals(List.of("jobs"), jobs.getResources());
    assertEquals(List.of("create", "get", "list", "watch", "patch", "delete"), jobs.getVerbs());
  }

  @Test
  void namesAreKubectls() {
    assertEquals(
        List.of(
            "pods",
            "pods/log",
            "configmaps",
            "services",
            "persistentvolumeclaims",
            "deployments.apps",
            "statefulsets.apps",
            "jobs.batch",
            "endpointslices.discovery.k8s.io",
            "workloads.kueue.x-k8s.io"),
        Permissions.ALL.stream().map(Permissions.Permission::name).toList());
  }

  @Test
  void aSubresourceIsSplitOffForAccessReviews() {
    Permissions.Permission log = permission("pods/log");
    assertEquals("pods", log.baseResource());
    assertEquals("log", log.subresource());
    assertEquals("", permission("pods").subresource());
    assertEquals(
        "status",
        new Permissions.Permission("batch", "jobs/status", List.of("get"), "", false)
            .subresource());
    assertEquals(
        "jobs.batch/status",
        new Permissions.Permission("batch", "jobs/status", List.of("get"), "", false).name());
  }

  @Test
  void onlyKueueIsOptional() {
    assertEquals(
        List.of("workloads.kueue.x-k8s.io"),
        Permissions.ALL.stream()
            .filter(Permissions.Permission::optional)
            .map(Permissions.Permission::name)
            .toList());
  }

  private static Permissions.Permission permission(String name) {
    return Permissions.ALL.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
  }
}
