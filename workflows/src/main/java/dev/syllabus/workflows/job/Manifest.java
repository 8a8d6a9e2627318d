package dev.syllabus.workflows.job;

/**
 * One rendered Kubernetes object of a phase, as YAML.
 *
 * @param kind e.g. {@code Job}, {@code ConfigMap}
 * @param name the object's rendered name
 * @param role the workload role it runs (e.g. {@code train}), or null for objects such as
 *     ConfigMaps
 * @param yaml the object as it would be applied
 */
public record Manifest(String kind, String name, String role, String yaml) {}
