package dev.syllabus.activities.kubernetes.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The address clients of a {@link SimulatedCluster} talk to: a small HTTP server in front of
 * fabric8's mock API server. It forwards API requests and counts them, serves watches from {@link
 * WatchFeeds}, and itself serves what the mock cannot: {@code pods/{name}/log}, followed or not. It
 * can also end open watches and cut open log streams, as a restarted API server or a flaky network
 * would.
 *
 * <p>The simulator talks to the mock server directly, so its own requests are never counted.
 */
final class ApiFront implements AutoCloseable {

  /** Where a pod's log comes from: the log of one container run, or the API's refusal. */
  interface LogSource {
    LogLookup find(String namespace, String pod, String container, boolean previous);
  }

  /** The answer to a log request before any line is sent. */
  sealed interface LogLookup {
    record Found(ContainerLog log) implements LogLookup {}

    record Refused(int code, String reason, String message) implements LogLookup {}
  }

  /** A delete a client asked for, with the propagation policy it named (or null). */
  record Deletion(String resource, String namespace, String name, String propagationPolicy) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "host",
          "connection",
          "keep-alive",
          "upgrade",
          "transfer-encoding",
          "content-length",
          "sec-websocket-key",
          "sec-websocket-version",
          "sec-websocket-extensions",
          "sec-websocket-accept");

  private final Vertx vertx = Vertx.vertx();
  private final String backendHost;
  private final int backendPort;
  private final HttpClient backend;
  private final HttpServer server;
  private final RequestCounts counts = new RequestCounts();
  private final Map<String, Integer> created = new ConcurrentHashMap<>();
  private final WatchFeeds watches;
  private final Set<HttpServerRequest> logStreams = ConcurrentHashMap.newKeySet();
  private final LogSource logs;
  private final Consumer<Deletion> deletions;

  ApiFront(String backendHost, int backendPort, LogSource logs, Consumer<Deletion> deletions) {
    this.backendHost = backendHost;
    this.backendPort = backendPort;
    this.logs = logs;
    this.deletions = deletions;
    this.backend =
        vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(64).setMaxWebSockets(256));
    this.server =
        vertx.createHttpServer(
            new HttpServerOptions()
                .setHost("127.0.0.1")
                .setPort(0)
                .setWebSocketSubProtocols(
                    List.of(
                        "v1.channel.k8s.io",
                        "v2.channel.k8s.io",
                        "v3.channel.k8s.io",
                        "v4.channel.k8s.io")));
    this.watches = new WatchFeeds(backend, backendHost, backendPort);
    server.requestHandler(this::handle);
    await(server.listen());
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort() + "/";
  }

  RequestCounts counts() {
    return counts;
  }

  int createdCount(String resource) {
    return created.getOrDefault(resource, 0);
  }

  int openWatches() {
    return watches.open();
  }

  /** Ends every open watch with a 410 Gone error event, as an API server does with stale ones. */
  int expireWatches() {
    return watches.expire();
  }

  /** Closes every open watch without an error, as an API server does at its watch timeout. */
  int closeWatches() {
    return watches.closeAll();
  }

  /** Drops the connection of every open log follow mid-stream, without ending the response. */
  int cutLogStreams() {
    List<HttpServerRequest> open = new ArrayList<>(logStreams);
    logStreams.clear();
    open.forEach(request -> request.connection().close());
    return open.size();
  }

  @Override
  public void close() {
    try {
      await(server.close());
    } finally {
      await(vertx.close());
    }
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    ApiPath api = ApiPath.parse(path);
    boolean watch = isTrue(request.getParam("watch"));
    if (api == null) {
      counts.record("get", path);
    } else {
      counts.record(api.verb(request.method().name(), watch), api.qualifiedResource());
    }
    if (api != null && watch) {
      watches.serve(request, api, isWebSocket(request));
    } else if (isWebSocket(request)) {
      tunnel(request);
    } else if (api != null
        && "pods".equals(api.resource())
        && "log".equals(api.subresource())
        && api.namespace() != null) {
      serveLog(request, api);
    } else {
      forward(request, api);
    }
  }

  private void forward(HttpServerRequest request, ApiPath api) {
    request
        .body()
        .onSuccess(
            received -> {
              Buffer body = received;
              String method = request.method().name();
              if (api != null && api.name() != null && method.equals("DELETE")) {
                deletions.accept(
                    new Deletion(
                        api.resource(), api.namespace(), api.name(), propagationPolicy(body)));
              }
              MultiMap headers = endToEnd(request.headers());
              String type = Objects.requireNonNullElse(headers.get("Content-Type"), "");
              if (method.equals("POST")
                  && api != null
                  && type.contains("json")
                  && body.length() > 0) {
                JsonObject object = body.toJsonObject();
                Admission.Refusal refusal = Admission.admit(api, object);
                if (refusal != null) {
                  refuse(request.response(), refusal);
                  return;
                }
                body = object.toBuffer();
              }
              if (api != null
                  && api.resource().equals("jobs")
                  && api.name() != null
                  && api.subresource() == null
                  && (method.equals("PUT") || method.equals("PATCH"))) {
                checkImmutable(request, api, headers, body);
              } else {
                proceed(request, api, headers, body);
              }
            });
  }

  /** Refuses a change to a Job's immutable fields, as the API server's validation does. */
  private void checkImmutable(
      HttpServerRequest request, ApiPath api, MultiMap headers, Buffer body) {
    send(HttpMethod.GET, request.path(), MultiMap.caseInsensitiveMultiMap(), null)
        .compose(HttpClientResponse::body)
        .onSuccess(
            current -> {
              Admission.Refusal refusal = null;
              try {
                refusal =
                    Admission.immutable(
                        api,
                        current.toString(),
                        request.method().name(),
                        Objects.requireNonNullElse(headers.get("Content-Type"), ""),
                        body.toString());
              } catch (RuntimeException unreadable) {
                // Let the mock server answer what it makes of it.
              }
              if (refusal != null) {
                refuse(request.response(), refusal);
              } else {
                proceed(request, api, headers, body);
              }
            })
        .onFailure(err -> request.response().setStatusCode(502).end(String.valueOf(err)));
  }

  private void proceed(HttpServerRequest request, ApiPath api, MultiMap headers, Buffer body) {
    String method = request.method().name();
    String type = Objects.requireNonNullElse(headers.get("Content-Type"), "");
    if (method.equals("PATCH") && type.startsWith("application/apply-patch")) {
      applyServerSide(request, api, body);
      return;
    }
    if (method.equals("PATCH") && type.startsWith("application/strategic-merge-patch")) {
      // The mock knows JSON and merge patches only; a merge patch is the nearest.
      headers.set("Content-Type", "application/merge-patch+json");
    }
    send(request.method(), request.uri(), headers, body)
        .onSuccess(in -> relay(request, api, in))
        .onFailure(err -> request.response().setStatusCode(502).end(String.valueOf(err)));
  }

  private static void refuse(HttpServerResponse response, Admission.Refusal refusal) {
    response
        .setStatusCode(refusal.status().getInteger("code"))
        .putHeader("Content-Type", "application/json")
        .end(refusal.status().encode());
  }

  private Future<HttpClientResponse> send(
      HttpMethod method, String uri, MultiMap headers, Buffer body) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setHost(backendHost)
            .setPort(backendPort)
            .setURI(uri)
            .setHeaders(headers);
    return backend.request(options).compose(out -> body == null ? out.send() : out.send(body));
  }

  /** Streams the mock server's answer back; a PATCH answers 200 as a real API server does. */
  private void relay(HttpServerRequest request, ApiPath api, HttpClientResponse in) {
    HttpServerResponse response = request.response();
    String method = request.method().name();
    if (method.equals("POST") && in.statusCode() == 201 && api != null) {
      created.merge(api.resource(), 1, Integer::sum);
    }
    response.setStatusCode(
        method.equals("PATCH") && in.statusCode() == 202 ? 200 : in.statusCode());
    response.headers().addAll(endToEnd(in.headers()));
    String length = in.getHeader("Content-Length");
    if (length != null) {
      response.putHeader("Content-Length", length);
    } else {
      response.setChunked(true);
    }
    in.pipeTo(response);
  }

  /**
   * Server-side apply, which the mock server does not know: the object is created when it is
   * missing, else merge-patched with what was applied (no field managers, no conflicts).
   */
  private void applyServerSide(HttpServerRequest request, ApiPath api, Buffer body) {
    HttpServerResponse response = request.response();
    Buffer json;
    try {
      json = Buffer.buffer(YAML.readTree(body.getBytes()).toString());
    } catch (IOException e) {
      response.setStatusCode(400).end("invalid apply patch: " + e.getMessage());
      return;
    }
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
    String path = request.path();
    send(HttpMethod.GET, path, MultiMap.caseInsensitiveMultiMap(), null)
        .compose(
            existing -> {
              existing.resume();
              if (existing.statusCode() == 404) {
                String collection = path.substring(0, path.lastIndexOf('/' + api.name()));
                return send(HttpMethod.POST, collection, headers, json);
              }
              headers.set("Content-Type", "application/merge-patch+json");
              return send(HttpMethod.PATCH, path, headers, json);
            })
        .onSuccess(
            in ->
                in.body()
                    .onSuccess(
                        answer -> {
                          if (in.statusCode() == 201) {
                            created.merge(api.resource(), 1, Integer::sum);
                          }
                          response
                              .setStatusCode(in.statusCode() == 202 ? 200 : in.statusCode())
                              .putHeader("Content-Type", "application/json")
                              .end(answer);
                        }))
        .onFailure(err -> response.setStatusCode(502).end(String.valueOf(err)));
  }

  private void tunnel(HttpServerRequest request) {
    MultiMap headers = endToEnd(request.headers());
    headers.remove("Sec-WebSocket-Protocol");
    WebSocketConnectOptions options =
        new WebSocketConnectOptions()
            .setHost(backendHost)
            .setPort(backendPort)
            .setURI(request.uri())
            .setHeaders(headers);
    String protocols = request.getHeader("Sec-WebSocket-Protocol");
    if (protocols != null) {
      for (String protocol : protocols.split(",")) {
        options.addSubProtocol(protocol.trim());
      }
    }
    request
        .toWebSocket()
        .onSuccess(
            client -> {
              client.pause();
              backend
                  .webSocket(options)
                  .onSuccess(server -> join(client, server))
                  .onFailure(err -> client.close((short) 1011, "backend: " + err.getMessage()));
            });
  }

  /** Joins a client websocket (exec, attach, port-forward) to the mock server's. */
  private static void join(ServerWebSocket client, WebSocket server) {
    server.textMessageHandler(client::writeTextMessage);
    server.binaryMessageHandler(client::writeBinaryMessage);
    client.textMessageHandler(server::writeTextMessage);
    client.binaryMessageHandler(server::writeBinaryMessage);
    server.closeHandler(v -> client.close());
    client.closeHandler(v -> server.close());
    client.resume();
  }

  private void serveLog(HttpServerRequest request, ApiPath api) {
    HttpServerResponse response = request.response();
    boolean follow = isTrue(request.getParam("follow"));
    boolean timestamps = isTrue(request.getParam("timestamps"));
    Instant since;
    try {
      since = since(request);
    } catch (DateTimeParseException e) {
      refuse(response, new LogLookup.Refused(400, "BadRequest", "invalid sinceTime: " + e));
      return;
    }
    LogLookup lookup =
        logs.find(
            api.namespace(),
            api.name(),
            request.getParam("container"),
            isTrue(request.getParam("previous")));
    if (lookup instanceof LogLookup.Refused refused) {
      refuse(response, refused);
      return;
    }
    ContainerLog log = ((LogLookup.Found) lookup).log();
    // New lines are written on this request's own event loop, so they keep their order and come
    // after the lines already there.
    Context context = vertx.getOrCreateContext();
    response.setStatusCode(200).putHeader("Content-Type", "text/plain").setChunked(true);
    ContainerLog.Follower follower =
        new ContainerLog.Follower() {
          @Override
          public void line(ContainerLog.Line line) {
            context.runOnContext(
                v -> {
                  if (!response.ended() && !response.closed()) {
                    response.write(line.render(timestamps));
                  }
                });
          }

          @Override
          public void end() {
            context.runOnContext(
                v -> {
                  logStreams.remove(request);
                  if (!response.ended() && !response.closed()) {
                    response.end();
                  }
                });
          }
        };
    List<ContainerLog.Line> lines = follow ? log.follow(follower) : log.lines();
    List<ContainerLog.Line> selected =
        lines.stream().filter(l -> since == null || !l.time().isBefore(since)).toList();
    String tail = request.getParam("tailLines");
    if (tail != null) {
      int n = Integer.parseInt(tail);
      selected = selected.subList(Math.max(0, selected.size() - n), selected.size());
    }
    StringBuilder text = new StringBuilder();
    selected.forEach(l -> text.append(l.render(timestamps)));
    String limit = request.getParam("limitBytes");
    if (limit != null && text.length() > Integer.parseInt(limit)) {
      text.setLength(Integer.parseInt(limit));
    }
    if (!text.isEmpty()) {
      response.write(text.toString());
    }
    if (!follow || log.ended()) {
      log.unfollow(follower);
      response.end();
      return;
    }
    logStreams.add(request);
    response.closeHandler(
        v -> {
          logStreams.remove(request);
          log.unfollow(follower);
        });
  }

  /**
   * The instant from which lines are sent. Like the API server, {@code sinceTime} is taken in whole
   * seconds: a client that reconnects with the time of its last line gets that second again.
   */
  private static Instant since(HttpServerRequest request) {
    String sinceTime = request.getParam("sinceTime");
    if (sinceTime != null) {
      return OffsetDateTime.parse(sinceTime).toInstant().truncatedTo(ChronoUnit.SECONDS);
    }
    String sinceSeconds = request.getParam("sinceSeconds");
    if (sinceSeconds != null) {
      return Instant.now().minusSeconds(Long.parseLong(sinceSeconds));
    }
    return null;
  }

  private static void refuse(HttpServerResponse response, LogLookup.Refused refused) {
    response
        .setStatusCode(refused.code())
        .putHeader("Content-Type", "application/json")
        .end(
            new JsonObject()
                .put("kind", "Status")
                .put("apiVersion", "v1")
                .put("metadata", new JsonObject())
                .put("status", "Failure")
                .put("message", refused.message())
                .put("reason", refused.reason())
                .put("code", refused.code())
                .encode());
  }

  private static String propagationPolicy(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      Object policy = body.toJsonObject().getValue("propagationPolicy");
      return policy == null ? null : policy.toString();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static MultiMap endToEnd(MultiMap headers) {
    MultiMap copy = MultiMap.caseInsensitiveMultiMap();
    headers.forEach(
        (name, value) -> {
          if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
            copy.add(name, value);
          }
        });
    return copy;
  }

  private static boolean isWebSocket(HttpServerRequest request) {
    String upgrade = request.getHeader("Upgrade");
    return upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket");
  }

  private static boolean isTrue(String value) {
    return "true".equals(value) || "1".equals(value);
  }

  private static <T> T await(Future<T> future) {
    CompletableFuture<T> done = new CompletableFuture<>();
    future.onComplete(
        r -> {
          if (r.succeeded()) {
            done.complete(r.result());
          } else {
            done.completeExceptionally(r.cause());
          }
        });
    try {
      return done.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the simulated API front did not start or stop", e);
    }
  }
}
