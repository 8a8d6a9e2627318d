package dev.syllabus.activities.kubernetes.sim;

import java.nio.file.Path;

/**
 * The file system a simulated container sees: paths under the mount path of its {@code
 * syllabus-artifacts} volume are the cluster's artifacts folder on the host (the shared PVC); every
 * other path is the container's own scratch folder, lost with the container.
 */
record ContainerFiles(String artifactsMount, Path artifactsDir, Path scratch) {

  /** Where a path as the container sees it lives on the host. */
  Path host(String containerPath) {
    if (artifactsMount != null && isUnder(containerPath, artifactsMount)) {
      String rest = containerPath.substring(artifactsMount.length()).replaceFirst("^/+", "");
      return rest.isEmpty() ? artifactsDir : artifactsDir.resolve(rest);
    }
    return scratch.resolve(containerPath.replaceFirst("^/+", ""));
  }

  /** Whether a path is on the shared artifacts volume. */
  boolean shared(String containerPath) {
    return artifactsMount != null && isUnder(containerPath, artifactsMount);
  }

  private static boolean isUnder(String path, String mount) {
    String base = mount.endsWith("/") ? mount.substring(0, mount.length() - 1) : mount;
    return path.equals(base) || path.startsWith(base + "/");
  }
}
