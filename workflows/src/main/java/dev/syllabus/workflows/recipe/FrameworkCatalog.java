package dev.syllabus.workflows.recipe;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What frameworks and workloads exist under {@code kubeconfigs/}, as plain data, so that recipes
 * can be checked before anything is submitted. Read from disk by the activities module.
 *
 * @param root where the frameworks were found, for messages (e.g. {@code kubeconfigs/})
 * @param frameworks by name
 */
public record FrameworkCatalog(String root, Map<String, Framework> frameworks) {

  public FrameworkCatalog {
    frameworks = Map.copyOf(frameworks);
  }

  /**
   * One framework folder.
   *
   * @param name the folder name, e.g. {@code axolotl}
   * @param workloads by name: the roles (e.g. {@code train}, {@code vllm}) its manifests declare
   * @param trainableKeys config keys that decide which parameters are trained; carrying an
   *     optimizer state between two phases needs them equal
   */
  public record Framework(
      String name, Map<String, Set<String>> workloads, List<String> trainableKeys) {
    public Framework {
      workloads = Map.copyOf(workloads);
      trainableKeys = List.copyOf(trainableKeys);
    }
  }

  public static FrameworkCatalog of(String root, Framework... frameworks) {
    Map<String, Framework> byName = new TreeMap<>();
    for (Framework f : frameworks) {
      byName.put(f.name(), f);
    }
    return new FrameworkCatalog(root, byName);
  }
}
