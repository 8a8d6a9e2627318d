package dev.syllabus.activities;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a framework reads a phase's settings, from {@code kubeconfigs/<framework>/framework.yaml}.
 *
 * @param configFile the name of the config file the job reads (mounted from a ConfigMap)
 * @param configFormat {@code json} or {@code yaml}
 * @param keys recipe fields ({@code optimizer.lr}) mapped to the framework's own config keys
 * @param trainable config keys that decide which parameters are trained
 * @param serviceKeys config keys (dotted paths) set to a Service's rendered name: the value is the
 *     Service's original name ({@code vllm}), or a text with {@code {service}} placeholders ({@code
 *     http://{rewards}:8000/score})
 */
public record FrameworkSettings(
    String configFile,
    String configFormat,
    Map<String, String> keys,
    List<String> trainable,
    Map<String, String> serviceKeys) {

  public static final FrameworkSettings DEFAULTS =
      new FrameworkSettings("config.yaml", "yaml", Map.of(), List.of(), Map.of());

  public FrameworkSettings {
    keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    trainable = List.copyOf(trainable);
    serviceKeys = Collections.unmodifiableMap(new LinkedHashMap<>(serviceKeys));
  }
}
