package dev.syllabus.activities.kubernetes.sim;

import java.util.Arrays;
import java.util.List;

/**
 * A request path of the Kubernetes API taken apart, as the API server's request info does: {@code
 * /apis/batch/v1/namespaces/ml/jobs/x/status} is resource {@code jobs}, name {@code x}, subresource
 * {@code status}. Paths outside {@code /api} and {@code /apis} are non-resource paths.
 */
record ApiPath(String namespace, String resource, String name, String subresource) {

  /** The path (without its query) taken apart, or null for a non-resource path. */
  static ApiPath parse(String path) {
    List<String> parts = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
    int first;
    if (!parts.isEmpty() && parts.get(0).equals("api")) {
      first = 2;
    } else if (!parts.isEmpty() && parts.get(0).equals("apis")) {
      first = 3;
    } else {
      return null;
    }
    if (parts.size() <= first) {
      return null;
    }
    List<String> rest = parts.subList(first, parts.size());
    String namespace = null;
    if (rest.get(0).equals("namespaces") && rest.size() >= 3) {
      namespace = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    return new ApiPath(
        namespace,
        rest.get(0),
        rest.size() > 1 ? rest.get(1) : null,
        rest.size() > 2 ? String.join("/", rest.subList(2, rest.size())) : null);
  }

  /**
   * The resource as the audit log names it: {@code pods}, {@code pods/log}, {@code jobs/status}.
   */
  String qualifiedResource() {
    return subresource == null ? resource : resource + "/" + subresource;
  }

  /** The verb the API server would authorise an HTTP method on this path as. */
  String verb(String method, boolean watch) {
    return switch (method) {
      case "GET", "HEAD" -> watch ? "watch" : name == null ? "list" : "get";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> name == null ? "deletecollection" : "delete";
      default -> method.toLowerCase(java.util.Locale.ROOT);
    };
  }
}
