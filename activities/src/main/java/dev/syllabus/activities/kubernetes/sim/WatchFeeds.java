package dev.syllabus.activities.kubernetes.sim;

import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Client watches, served by the API front itself. For each resource type one watch on the mock
 * server, across all namespaces, stays open for the cluster's life (a feed); client watches are fed
 * from it, filtered by namespace, name and label selector. Client watches never reach the mock
 * server, whose watch listener can deadlock an event loop when a client closes a watch while an
 * event is on its way.
 *
 * <p>Like the mock server (and unlike a real API server, which honours {@code resourceVersion}), a
 * new watch starts with an ADDED event for every object it selects.
 */
final class WatchFeeds {
  private static final String GONE =
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
          + "\"status\":\"Failure\",\"message\":\"too old resource version\",\"reason\":\"Expired\","
          + "\"code\":410}}";
  private static final Pattern SET_REQUIREMENT =
      Pattern.compile("^\\s*([^\\s!=]+)\\s+(in|notin)\\s+\\(([^)]*)\\)\\s*$");

  private final HttpClient backend;
  private final String host;
  private final int port;
  private final Map<String, Feed> feeds = new ConcurrentHashMap<>();
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();

  WatchFeeds(HttpClient backend, String host, int port) {
    this.backend = backend;
    this.host = host;
    this.port = port;
  }

  /** Serves a watch request: a websocket, or a streaming HTTP response of JSON lines. */
  void serve(HttpServerRequest request, ApiPath api, boolean webSocket) {
    String collection = collectionPath(request.path(), api);
    Predicate<JsonObject> selects = selector(request, api);
    Feed feed = feeds.computeIfAbsent(collection, Feed::new);
    if (webSocket) {
      request.toWebSocket().onSuccess(ws -> feed.subscribe(new Subscriber(ws, null, selects)));
    } else {
      HttpServerResponse response = request.response();
      response.setStatusCode(200).putHeader("Content-Type", "application/json").setChunked(true);
      feed.subscribe(new Subscriber(null, response, selects));
    }
  }

  /** How many client watches are open. */
  int open() {
    return subscribers.size();
  }

  /** Ends every client watch with a 410 Gone ERROR event; returns how many. */
  int expire() {
    List<Subscriber> open = new ArrayList<>(subscribers);
    open.forEach(s -> s.end(GONE));
    return open.size();
  }

  /** Ends every client watch without an error; returns how many. */
  int closeAll() {
    List<Subscriber> open = new ArrayList<>(subscribers);
    open.forEach(s -> s.end(null));
    return open.size();
  }

  /** One resource type's events from the mock server, and the objects they leave. */
  private final class Feed {
    private final Map<String, String> objects = new LinkedHashMap<>();
    private final List<Subscriber> subscribed = new ArrayList<>();

    Feed(String collection) {
      WebSocketConnectOptions options =
          new WebSocketConnectOptions()
              .setHost(host)
              .setPort(port)
              .setURI(collection + "?watch=true");
      backend
          .webSocket(options)
          .onSuccess(ws -> ws.textMessageHandler(this::event))
          .onFailure(e -> feeds.remove(collection));
    }

    synchronized void subscribe(Subscriber subscriber) {
      if (!subscriber.onEnd(() -> unsubscribe(subscriber))) {
        return;
      }
      subscribers.add(subscriber);
      subscribed.add(subscriber);
      for (String object : objects.values()) {
        subscriber.offer("ADDED", object);
      }
    }

    private synchronized void unsubscribe(Subscriber subscriber) {
      subscribed.remove(subscriber);
      subscribers.remove(subscriber);
    }

    private synchronized void event(String text) {
      JsonObject event = new JsonObject(text);
      String type = event.getString("type");
      JsonObject object = event.getJsonObject("object");
      if (object == null) {
        return;
      }
      JsonObject metadata = object.getJsonObject("metadata", new JsonObject());
      String key = metadata.getString("namespace", "") + "/" + metadata.getString("name");
      if ("DELETED".equals(type)) {
        objects.remove(key);
      } else {
        objects.put(key, object.encode());
      }
      for (Subscriber s : List.copyOf(subscribed)) {
        s.offer(type, object.encode());
      }
    }
  }

  /** One client watch: where its events go and which objects it wants. */
  private static final class Subscriber {
    private final ServerWebSocket socket;
    private final HttpServerResponse response;
    private final Predicate<JsonObject> selects;
    private Runnable onEnd = () -> {};
    private boolean ended;

    Subscriber(ServerWebSocket socket, HttpServerResponse response, Predicate<JsonObject> selects) {
      this.socket = socket;
      this.response = response;
      this.selects = selects;
      if (socket != null) {
        socket.closeHandler(v -> end(null));
        socket.exceptionHandler(e -> end(null));
      } else {
        response.closeHandler(v -> end(null));
      }
    }

    /** What to do when the watch ends; false when it has already ended. */
    synchronized boolean onEnd(Runnable action) {
      onEnd = action;
      return !ended;
    }

    synchronized void offer(String type, String object) {
      if (!ended && selects.test(new JsonObject(object))) {
        send("{\"type\":\"" + type + "\",\"object\":" + object + "}");
      }
    }

    /** Ends the watch, with a last event first when one is given. */
    void end(String lastEvent) {
      Runnable then;
      synchronized (this) {
        if (ended) {
          return;
        }
        if (lastEvent != null) {
          send(lastEvent);
        }
        ended = true;
        then = onEnd;
      }
      // Outside the lock: the feed takes its own lock to forget this watch.
      then.run();
      if (socket != null) {
        if (!socket.isClosed()) {
          socket.close((short) 1000);
        }
      } else if (!response.ended() && !response.closed()) {
        response.end();
      }
    }

    private void send(String text) {
      if (socket != null) {
        socket.writeTextMessage(text);
      } else if (!response.closed()) {
        response.write(text + "\n");
      }
    }
  }

  /** The path of the whole collection across namespaces: {@code /apis/batch/v1/jobs}. */
  private static String collectionPath(String path, ApiPath api) {
    int at = path.indexOf("/namespaces/" + api.namespace() + "/");
    String prefix =
        api.namespace() == null
            ? path.substring(0, path.indexOf("/" + api.resource()))
            : path.substring(0, at);
    return prefix + "/" + api.resource();
  }

  /** What a watch request selects: its namespace, a name, labels and fields. */
  private static Predicate<JsonObject> selector(HttpServerRequest request, ApiPath api) {
    String namespace = api.namespace();
    String pathName = api.name();
    List<Predicate<JsonObject>> requirements = new ArrayList<>();
    if (namespace != null) {
      requirements.add(o -> namespace.equals(meta(o).getString("namespace")));
    }
    if (pathName != null) {
      requirements.add(o -> pathName.equals(meta(o).getString("name")));
    }
    String fields = request.getParam("fieldSelector");
    if (fields != null && !fields.isBlank()) {
      for (String requirement : fields.split(",")) {
        boolean negated = requirement.contains("!=");
        String[] kv = requirement.split("!=|==|=", 2);
        String field = kv[0].trim();
        String value = kv.length > 1 ? kv[1].trim() : "";
        requirements.add(
            o -> {
              String actual =
                  switch (field) {
                    case "metadata.name" -> meta(o).getString("name");
                    case "metadata.namespace" -> meta(o).getString("namespace");
                    default -> value;
                  };
              return negated != value.equals(actual);
            });
      }
    }
    String labels = request.getParam("labelSelector");
    if (labels != null && !labels.isBlank()) {
      for (String requirement : splitSelector(labels)) {
        requirements.add(label(requirement.trim()));
      }
    }
    return o -> requirements.stream().allMatch(r -> r.test(o));
  }

  /**
   * One label requirement: {@code k=v}, {@code k==v}, {@code k!=v}, {@code k}, {@code !k}, {@code k
   * in (a,b)}, {@code k notin (a,b)}.
   */
  private static Predicate<JsonObject> label(String requirement) {
    Matcher set = SET_REQUIREMENT.matcher(requirement);
    if (set.matches()) {
      String key = set.group(1);
      boolean in = set.group(2).equals("in");
      List<String> values = List.of(set.group(3).split("\\s*,\\s*"));
      return o -> in == values.contains(labels(o).getString(key));
    }
    if (requirement.contains("!=")) {
      String[] kv = requirement.split("!=", 2);
      return o -> !kv[1].trim().equals(labels(o).getString(kv[0].trim()));
    }
    if (requirement.contains("=")) {
      String[] kv = requirement.split("==|=", 2);
      return o -> kv[1].trim().equals(labels(o).getString(kv[0].trim()));
    }
    if (requirement.startsWith("!")) {
      return o -> !labels(o).containsKey(requirement.substring(1).trim());
    }
    return o -> labels(o).containsKey(requirement);
  }

  /** Splits at the commas between requirements, not those inside {@code in (a,b)}. */
  private static List<String> splitSelector(String selector) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < selector.length(); i++) {
      char c = selector.charAt(i);
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (c == ',' && depth == 0) {
        parts.add(selector.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(selector.substring(start));
    return parts;
  }

  private static JsonObject meta(JsonObject object) {
    return object.getJsonObject("metadata", new JsonObject());
  }

  private static JsonObject labels(JsonObject object) {
    return meta(object).getJsonObject("labels", new JsonObject());
  }
}
