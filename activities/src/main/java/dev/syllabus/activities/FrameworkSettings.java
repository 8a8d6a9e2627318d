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
 * @param rendezvousPort the port rank 0 of a trainer on several nodes listens on for its peers
 *     ({@code rendezvous.port}, default {@value #DEFAULT_RENDEZVOUS_PORT}, torchrun's own default)
 */
public record FrameworkSettings(
    String configFile,
    String configFormat,
    Map<String, String> keys,
    List<String> trainable,
    Map<String, String> serviceKeys,
    int rendezvousPort) {

  /** torchrun's default {@code --master-port}. */
  public static final int DEFAULT_RENDEZVOUS_PORT = 29500;

  public static final FrameworkSettings DEFAULTS =
      new FrameworkSettings(
          "config.yaml", "yaml", Map.of(), List.of(), Map.of(), DEFAULT_RENDEZVOUS_PORT);

  public FrameworkSettings {
    keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    trainable = List.copyOf(trainable);
    serviceKeys = Collections.unmodifiableMap(new LinkedHashMap<>(serviceKeys));
  }
}
