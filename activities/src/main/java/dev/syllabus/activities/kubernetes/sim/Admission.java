package dev.syllabus.activities.kubernetes.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.zjsonpatch.JsonPatch;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the API server does to an object before it stores it and the mock server does not: a {@code
 * generateName} becomes a name with five random characters, and names and label values are
 * validated, refused with 422 Invalid in the API server's own words.
 */
final class Admission {
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS_1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final String SUBDOMAIN_RULE =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or"
          + " '.', and must start and end with an alphanumeric character (e.g. 'example.com',"
          + " regex used for validation is"
          + " '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  private static final String DNS_1035_RULE =
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an"
          + " alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or"
          + " 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  private static final String LABEL_RULE =
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or"
          + " '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or"
          + " 'my_value',  or '12345', regex used for validation is"
          + " '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  private static final Map<String, String> GROUPS =
      Map.of(
          "jobs",
          "batch",
          "deployments",
          "apps",
          "replicasets",
          "apps",
          "workloads",
          "kueue.x-k8s.io");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Admission() {}

  /** A refusal: the Status body to answer with 422. */
  record Refusal(JsonObject status) {}

  /** Names a generateName object; returns a refusal when the object is invalid, else null. */
  static Refusal admit(ApiPath api, JsonObject object) {
    JsonObject metadata = object.getJsonObject("metadata");
    if (metadata == null) {
      return null;
    }
    String name = metadata.getString("name");
    if ((name == null || name.isEmpty()) && metadata.getString("generateName") != null) {
      name = metadata.getString("generateName") + Kube.randomSuffix(5);
      metadata.put("name", name);
    }
    if (name == null) {
      return null;
    }
    String kind = object.getString("kind", "");
    String group = GROUPS.get(api.resource());
    String qualifiedKind = group == null ? kind : kind + "." + group;
    if (api.resource().equals("services") && !DNS_1035.matcher(name).matches()) {
      return invalid(qualifiedKind, name, "metadata.name", name, DNS_1035_RULE);
    }
    if (!SUBDOMAIN.matcher(name).matches()) {
      return invalid(qualifiedKind, name, "metadata.name", name, SUBDOMAIN_RULE);
    }
    int longest = api.resource().equals("services") || api.resource().equals("jobs") ? 63 : 253;
    if (name.length() > longest) {
      return invalid(
          qualifiedKind,
          name,
          "metadata.name",
          name,
          "must be no more than " + longest + " characters");
    }
    Refusal labels =
        labels(qualifiedKind, name, "metadata.labels", metadata.getJsonObject("labels"));
    if (labels != null) {
      return labels;
    }
    JsonObject template = object.getJsonObject("spec", new JsonObject()).getJsonObject("template");
    if (template != null) {
      return labels(
          qualifiedKind,
          name,
          "spec.template.labels",
          template.getJsonObject("metadata", new JsonObject()).getJsonObject("labels"));
    }
    return null;
  }

  /**
   * A PUT or PATCH that would change a Job's template, selector or completion mode, which the API
   * server refuses; the scheduling directives of a suspended Job that never started may change.
   * Returns null when the change is allowed (or when the Job does not exist).
   */
  static Refusal immutable(ApiPath api, String current, String method, String type, String body) {
    if (current.isBlank()) {
      return null;
    }
    JsonNode before = tree(JSON, current);
    if (!before.path("metadata").path("name").isTextual()) {
      return null;
    }
    JsonNode change = tree(type.startsWith("application/apply-patch") ? YAML : JSON, body);
    JsonNode after;
    if (method.equals("PUT")
        || type.startsWith("application/apply-patch")
        || !type.startsWith("application/json-patch")) {
      after = method.equals("PUT") ? change : mergePatch(before.deepCopy(), change);
    } else {
      after = JsonPatch.apply(change, before);
    }
    boolean neverStarted =
        before.path("spec").path("suspend").asBoolean(false)
            && before.path("status").path("startTime").isMissingNode();
    for (String field : List.of("template", "selector", "completionMode")) {
      JsonNode was = before.path("spec").path(field);
      JsonNode is = after.path("spec").path(field);
      if (is.isMissingNode() || was.isMissingNode()) {
        continue;
      }
      if (field.equals("template") && neverStarted) {
        was = withoutSchedulingDirectives(was);
        is = withoutSchedulingDirectives(is);
      }
      if (!was.equals(is)) {
        String name = before.path("metadata").path("name").asText();
        return invalid("Job.batch", name, "spec." + field, is.toString(), "field is immutable");
      }
    }
    return null;
  }

  private static JsonNode tree(ObjectMapper mapper, String text) {
    try {
      return mapper.readTree(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** RFC 7386: objects merge, null removes, anything else replaces. */
  private static JsonNode mergePatch(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch;
    }
    ObjectNode result = target.isObject() ? (ObjectNode) target : JSON.createObjectNode();
    patch
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNull()) {
                result.remove(e.getKey());
              } else {
                result.set(e.getKey(), mergePatch(result.path(e.getKey()), e.getValue()));
              }
            });
    return result;
  }

  private static JsonNode withoutSchedulingDirectives(JsonNode template) {
    ObjectNode copy = template.deepCopy();
    copy.remove("metadata");
    if (copy.path("spec").isObject()) {
      ((ObjectNode) copy.get("spec"))
          .remove(List.of("nodeSelector", "tolerations", "affinity", "schedulingGates"));
    }
    return copy;
  }

  private static Refusal labels(String kind, String name, String field, JsonObject labels) {
    if (labels == null) {
      return null;
    }
    for (String key : labels.fieldNames()) {
      String value = String.valueOf(labels.getValue(key));
      if (!LABEL_VALUE.matcher(value).matches()) {
        return invalid(kind, name, field, value, LABEL_RULE);
      }
      if (value.length() > 63) {
        return invalid(kind, name, field, value, "must be no more than 63 characters");
      }
    }
    return null;
  }

  private static Refusal invalid(
      String kind, String name, String field, String value, String detail) {
    String cause = "Invalid value: \"" + value + "\": " + detail;
    String shortKind = kind.contains(".") ? kind.substring(0, kind.indexOf('.')) : kind;
    String group = kind.contains(".") ? kind.substring(kind.indexOf('.') + 1) : "";
    return new Refusal(
        new JsonObject()
            .put("kind", "Status")
            .put("apiVersion", "v1")
            .put("metadata", new JsonObject())
            .put("status", "Failure")
            .put("message", kind + " \"" + name + "\" is invalid: " + field + ": " + cause)
            .put("reason", "Invalid")
            .put(
                "details",
                new JsonObject()
                    .put("name", name)
                    .put("group", group)
                    .put("kind", shortKind)
                    .put(
                        "causes",
                        new JsonArray()
                            .add(
                                new JsonObject()
                                    .put("reason", "FieldValueInvalid")
                                    .put("message", cause)
                                    .put("field", field))))
            .put("code", 422));
  }
}
