package dev.syllabus.activities;

import dev.syllabus.workflows.recipe.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The values of a framework's {@code service_keys} (in its {@code framework.yaml}): how a trainer
 * is wired to the servers of its attempt. A value names a Service of the manifests, alone ({@code
 * vllm}) or inside a text ({@code http://{vllm}:8000}); it is rewritten to that Service's name for
 * this attempt.
 */
final class ServiceKeys {

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z0-9]([-a-z0-9]*[a-z0-9])?)}");

  private ServiceKeys() {}

  /**
   * A {@code service_keys} value: a Service's name, or a text with {@code {service}} in it; null
   * when it names a Service of another workload of the framework (the key is left out here).
   *
   * @param services the new name of each Service of this workload, by its name in the manifests
   * @param frameworkServices the Services of every workload of the framework
   */
  static String value(
      Phase phase, String value, Map<String, String> services, Set<String> frameworkServices) {
    Matcher m = PLACEHOLDER.matcher(value);
    List<String> named = new ArrayList<>();
    if (!value.contains("{")) {
      named.add(value);
    } else {
      while (m.find()) {
        named.add(m.group(1));
      }
      m.reset();
    }
    for (String original : named) {
      if (!services.containsKey(original) && frameworkServices.contains(original)) {
        return null;
      }
    }
    if (!value.contains("{")) {
      return service(phase, value, services);
    }
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(service(phase, m.group(1), services)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String service(Phase phase, String original, Map<String, String> services) {
    String name = services.get(original);
    if (name == null) {
      throw new IllegalArgumentException(
          phase.framework()
              + "/framework.yaml: service_keys: no Service named '"
              + original
              + "' in any workload of "
              + phase.framework()
              + (services.isEmpty()
                  ? ""
                  : " (Services: " + String.join(", ", services.keySet()) + ")"));
    }
    return name;
  }
}
