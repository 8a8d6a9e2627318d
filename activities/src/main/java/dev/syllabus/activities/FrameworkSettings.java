package dev.syllabus.activities;

import java.util.List;
import java.util.Map;

/**
 * How a framework reads a phase's settings, from {@code kubeconfigs/<framework>/framework.yaml}.
 *
 * @param configFile the name of the config file the job reads (mounted from a ConfigMap)
 * @param configFormat {@code json} or {@code yaml}
 * @param keys recipe fields ({@code optimizer.lr}) mapped to the framework's own config keys
 * @param trainable config keys that decide which parameters are trained
 */
public record FrameworkSettings(
    String configFile, String configFormat, Map<String, String> keys, List<String> trainable) {

  public static final FrameworkSettings DEFAULTS =
      new FrameworkSettings("config.yaml", "yaml", Map.of(), List.of());

  public FrameworkSettings {
    keys = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(keys));
    trainable = List.copyOf(trainable);
  }
}
