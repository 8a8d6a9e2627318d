package dev.syllabus.activities.kubernetes.sim;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts of the API requests that clients made to a {@link SimulatedCluster}, by verb and resource,
 * the way the API server's audit log names them: verbs {@code get list watch create update patch
 * delete deletecollection}, resources {@code jobs}, {@code pods}, {@code pods/log}, {@code
 * jobs/status}, {@code workloads}, ... (non-resource paths such as {@code /version} count as {@code
 * get} of the path).
 *
 * <p>The cluster's own count is live; {@link #snapshot()} freezes a copy, and {@link
 * #minus(RequestCounts)} gives what happened between two snapshots.
 */
public final class RequestCounts {
  private final ConcurrentMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final boolean frozen;

  RequestCounts() {
    this(false);
  }

  private RequestCounts(boolean frozen) {
    this.frozen = frozen;
  }

  void record(String verb, String resource) {
    counts.computeIfAbsent(key(verb, resource), k -> new AtomicInteger()).incrementAndGet();
  }

  /** How many requests of this verb on this resource, e.g. {@code count("create", "jobs")}. */
  public int count(String verb, String resource) {
    AtomicInteger n = counts.get(key(verb, resource));
    return n == null ? 0 : n.get();
  }

  /** How many requests of this verb, on any resource. */
  public int count(String verb) {
    return counts.entrySet().stream()
        .filter(e -> e.getKey().startsWith(verb + " "))
        .mapToInt(e -> e.getValue().get())
        .sum();
  }

  /** How many requests on this resource, whatever the verb. */
  public int countOn(String resource) {
    return counts.entrySet().stream()
        .filter(e -> e.getKey().endsWith(" " + resource))
        .mapToInt(e -> e.getValue().get())
        .sum();
  }

  /** How many requests in all. */
  public int total() {
    return counts.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  /** Every count by {@code "<verb> <resource>"}, e.g. {@code "create jobs"}, sorted by key. */
  public Map<String, Integer> asMap() {
    Map<String, Integer> map = new TreeMap<>();
    counts.forEach((k, v) -> map.put(k, v.get()));
    return map;
  }

  /** A frozen copy of the counts as they are now. */
  public RequestCounts snapshot() {
    RequestCounts copy = new RequestCounts(true);
    counts.forEach((k, v) -> copy.counts.put(k, new AtomicInteger(v.get())));
    return copy;
  }

  /** The requests counted here and not in {@code earlier}: what happened since that snapshot. */
  public RequestCounts minus(RequestCounts earlier) {
    RequestCounts diff = new RequestCounts(true);
    counts.forEach(
        (k, v) -> {
          int n = v.get() - earlier.countKey(k);
          if (n != 0) {
            diff.counts.put(k, new AtomicInteger(n));
          }
        });
    return diff;
  }

  /** Forgets every count (the live counts only). */
  public void reset() {
    if (frozen) {
      throw new IllegalStateException("a snapshot of request counts cannot be reset");
    }
    counts.clear();
  }

  private int countKey(String key) {
    AtomicInteger n = counts.get(key);
    return n == null ? 0 : n.get();
  }

  private static String key(String verb, String resource) {
    return verb + " " + resource;
  }

  /** A table, one row a resource, one column a verb, and the total. */
  @Override
  public String toString() {
    String[] verbs = {
      "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"
    };
    Map<String, Map<String, Integer>> rows = new TreeMap<>();
    counts.forEach(
        (k, v) -> {
          int space = k.indexOf(' ');
          rows.computeIfAbsent(k.substring(space + 1), r -> new TreeMap<>())
              .put(k.substring(0, space), v.get());
        });
    int width = Math.max(12, rows.keySet().stream().mapToInt(String::length).max().orElse(0));
    StringBuilder out = new StringBuilder(String.format("%-" + width + "s", "resource"));
    for (String verb : verbs) {
      out.append(String.format(" %6s", verb.equals("deletecollection") ? "delcol" : verb));
    }
    out.append('\n');
    rows.forEach(
        (resource, byVerb) -> {
          out.append(String.format("%-" + width + "s", resource));
          for (String verb : verbs) {
            out.append(String.format(" %6d", byVerb.getOrDefault(verb, 0)));
          }
          out.append('\n');
        });
    return out.append("total ").append(total()).toString();
  }
}
