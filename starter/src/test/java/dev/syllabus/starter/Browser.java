package dev.syllabus.starter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A headless Chromium driven over the Chrome DevTools Protocol, so that a test can look at a web
 * page (the Temporal Web UI) as a person would: open it, wait until some text shows, save a
 * screenshot. It needs only the JDK and a Chromium on the machine ({@code apt-get install -y
 * chromium}); tests skip when {@link #find()} finds none.
 */
final class Browser implements AutoCloseable {

  static final int WIDTH = 1600;
  static final int HEIGHT = 1000;

  private static final Duration STARTUP = Duration.ofSeconds(30);
  private static final Duration ANSWER = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(250);
  // Chromium cannot paint a bitmap taller than this in one go.
  private static final int MAX_SHOT_HEIGHT = 16_384;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final Path log;
  private final WebSocket socket;
  private final AtomicLong lastId = new AtomicLong();
  private final Map<Long, CompletableFuture<JsonNode>> answers = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<JsonNode>> events = new ConcurrentHashMap<>();

  private Browser(Process process, Path log, WebSocket socket) {
    this.process = process;
    this.log = log;
    this.socket = socket;
  }

  /** The Chromium on this machine, if any. */
  static Optional<Path> find() {
    Path debian = Path.of("/usr/bin/chromium");
    if (Files.isExecutable(debian)) {
      return Optional.of(debian);
    }
    String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
          return Optional.of(Path.of(dir, name));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Starts Chromium with a profile in {@code userDataDir} (a fresh directory; its log goes to
   * {@code chromium.log} there) and connects to a blank tab.
   */
  static Browser start(Path userDataDir) throws IOException, InterruptedException {
    Path chromium =
        find()
            .orElseThrow(() -> new IllegalStateException("no Chromium: apt-get install chromium"));
    Files.createDirectories(userDataDir);
    Path portFile = userDataDir.resolve("DevToolsActivePort");
    Files.deleteIfExists(portFile);
    Path log = userDataDir.resolve("chromium.log");
    Process process =
        new ProcessBuilder(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                // This machine's network refuses Chromium's own connections: make none.
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + userDataDir.toAbsolutePath(),
                "--remote-debugging-port=0",
                "--window-size=" + WIDTH + "," + HEIGHT)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      int port = awaitPort(process, portFile, log);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      // A tab of our own; newer Chromium answers /json/new only to PUT.
      HttpResponse<String> created =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/json/new?about:blank"))
                  .PUT(HttpRequest.BodyPublishers.noBody())
                  .timeout(ANSWER)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (created.statusCode() != 200) {
        throw new IllegalStateException(
            "Chromium would not open a tab: HTTP " + created.statusCode() + " " + created.body());
      }
      String pageUrl = JSON.readTree(created.body()).path("webSocketDebuggerUrl").asText();
      Messages messages = new Messages();
      WebSocket socket =
          http.newWebSocketBuilder()
              .connectTimeout(Duration.ofSeconds(5))
              .buildAsync(URI.create(pageUrl), messages)
              .get(ANSWER.toSeconds(), TimeUnit.SECONDS);
      Browser browser = new Browser(process, log, socket);
      messages.browser = browser;
      browser.call("Page.enable", JSON.createObjectNode());
      return browser;
    } catch (IOException | InterruptedException | RuntimeException e) {
      stop(process);
      throw e;
    } catch (ExecutionException | TimeoutException e) {
      stop(process);
      throw new IOException("could not connect to Chromium's DevTools; its log: " + log, e);
    }
  }

  /** Opens {@code url} in the tab and waits for its load event. */
  void open(String url) {
    CompletableFuture<JsonNode> loaded = new CompletableFuture<>();
    events.put("Page.loadEventFired", loaded);
    try {
      JsonNode navigated = call("Page.navigate", JSON.createObjectNode().put("url", url));
      if (navigated.has("errorText")) {
        throw new IllegalStateException(
            "could not open " + url + ": " + navigated.get("errorText").asText());
      }
      if (navigated.has("loaderId")) { // absent when only the #fragment changed
        await(loaded, "the load event of " + url);
      }
    } finally {
      events.remove("Page.loadEventFired", loaded);
    }
  }

  /**
   * The text a person sees on the page ({@code document.body.innerText}), followed by that of each
   * frame in it: the Temporal UI shows Markdown (a run's summary and details) in sandboxed iframes,
   * which the page's own script cannot read, but the DevTools protocol can.
   */
  String text() {
    Object text = evaluate("document.body ? document.body.innerText : ''");
    StringBuilder all = new StringBuilder(text == null ? "" : text.toString());
    JsonNode tree = call("Page.getFrameTree", JSON.createObjectNode()).path("frameTree");
    for (JsonNode child : tree.path("childFrames")) {
      all.append('\n').append(frameText(child.path("frame").path("id").asText()));
    }
    return all.toString();
  }

  private String frameText(String frameId) {
    JsonNode world =
        call(
            "Page.createIsolatedWorld",
            JSON.createObjectNode().put("frameId", frameId).put("worldName", "syllabus-test"));
    ObjectNode params =
        JSON.createObjectNode()
            .put("expression", "document.body ? document.body.innerText : ''")
            .put("contextId", world.path("executionContextId").asLong())
            .put("returnByValue", true);
    return call("Runtime.evaluate", params).path("result").path("value").asText("");
  }

  /**
   * Waits until the page shows every one of {@code needles} and returns its text then; fails naming
   * the missing ones and showing what the page shows instead.
   */
  String waitForText(Duration timeout, String... needles) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String text;
      try {
        text = text();
      } catch (ProtocolError navigating) { // e.g. the page is between two documents
        text = "";
      }
      List<String> missing = new ArrayList<>();
      for (String needle : needles) {
        if (!text.contains(needle)) {
          missing.add(needle);
        }
      }
      if (missing.isEmpty()) {
        return text;
      }
      if (System.nanoTime() > deadline) {
        String shown = text.length() > 2000 ? text.substring(0, 2000) + "…" : text;
        throw new IllegalStateException(
            "the page did not show "
                + missing
                + " within "
                + timeout.toMillis()
                + " ms; it shows:\n"
                + shown);
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /**
   * Saves a PNG of the whole page, beyond the window when the page is taller (up to {@value
   * #MAX_SHOT_HEIGHT} pixels).
   */
  void screenshot(Path png) throws IOException {
    JsonNode metrics = call("Page.getLayoutMetrics", JSON.createObjectNode());
    JsonNode content =
        metrics.has("cssContentSize") ? metrics.get("cssContentSize") : metrics.get("contentSize");
    double width = Math.max(WIDTH, Math.ceil(content.path("width").asDouble()));
    double height =
        Math.min(MAX_SHOT_HEIGHT, Math.max(HEIGHT, Math.ceil(content.path("height").asDouble())));
    ObjectNode params = JSON.createObjectNode().put("format", "png");
    params.put("captureBeyondViewport", true);
    params
        .putObject("clip")
        .put("x", 0)
        .put("y", 0)
        .put("width", width)
        .put("height", height)
        .put("scale", 1);
    JsonNode shot = call("Page.captureScreenshot", params);
    if (png.toAbsolutePath().getParent() != null) {
      Files.createDirectories(png.toAbsolutePath().getParent());
    }
    Files.write(png, Base64.getDecoder().decode(shot.get("data").asText()));
  }

  /**
   * Runs {@code js} in the page (awaiting it if it gives a promise) and returns its value as plain
   * Java: a String, Number, Boolean, List, Map or null.
   */
  Object evaluate(String js) {
    ObjectNode params =
        JSON.createObjectNode()
            .put("expression", js)
            .put("returnByValue", true)
            .put("awaitPromise", true);
    JsonNode evaluated = call("Runtime.evaluate", params);
    if (evaluated.has("exceptionDetails")) {
      JsonNode details = evaluated.get("exceptionDetails");
      String description = details.path("exception").path("description").asText("");
      throw new ProtocolError(
          "the page threw on `"
              + js
              + "`: "
              + (description.isEmpty() ? details.path("text").asText() : description));
    }
    JsonNode value = evaluated.path("result").path("value");
    try {
      return value.isMissingNode() ? null : JSON.treeToValue(value, Object.class);
    } catch (IOException e) {
      throw new IllegalStateException("unreadable value of `" + js + "`: " + value, e);
    }
  }

  @Override
  public void close() {
    socket.abort();
    stop(process);
  }

  private JsonNode call(String method, ObjectNode params) {
    long id = lastId.incrementAndGet();
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    answers.put(id, answer);
    try {
      ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
      message.set("params", params);
      synchronized (socket) { // one message at a time: the socket refuses overlapping sends
        socket.sendText(message.toString(), true).join();
      }
      JsonNode reply = await(answer, "Chromium's answer to " + method);
      if (reply.has("error")) {
        throw new ProtocolError(method + " failed: " + reply.get("error"));
      }
      return reply.path("result");
    } finally {
      answers.remove(id);
    }
  }

  private JsonNode await(CompletableFuture<JsonNode> future, String what) {
    try {
      return future.get(ANSWER.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "no " + what + " within " + ANSWER.toSeconds() + " s; Chromium's log: " + log);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "lost Chromium waiting for " + what + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for " + what, e);
    }
  }

  private void receive(String text) {
    JsonNode message;
    try {
      message = JSON.readTree(text);
    } catch (IOException e) {
      return; // not ours to answer; whoever waits times out with a pointer to the log
    }
    if (message.has("id")) {
      CompletableFuture<JsonNode> answer = answers.get(message.get("id").asLong());
      if (answer != null) {
        answer.complete(message);
      }
    } else if (message.has("method")) {
      CompletableFuture<JsonNode> event = events.get(message.get("method").asText());
      if (event != null) {
        event.complete(message.path("params"));
      }
    }
  }

  private void lost(Throwable why) {
    answers.values().forEach(answer -> answer.completeExceptionally(why));
    events.values().forEach(event -> event.completeExceptionally(why));
  }

  private static int awaitPort(Process process, Path portFile, Path log)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "Chromium exited with " + process.exitValue() + " on start; its log:\n" + tail(log));
      }
      // Two lines: the port, then the browser's path. Until both are there it is half written.
      List<String> lines = Files.exists(portFile) ? Files.readAllLines(portFile) : List.of();
      if (lines.size() >= 2) {
        return Integer.parseInt(lines.get(0).strip());
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        "Chromium wrote no "
            + portFile
            + " within "
            + STARTUP.toSeconds()
            + " s; its log:\n"
            + tail(log));
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  private static void stop(Process process) {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    // Chromium takes its helpers down with it; these are for a Chromium that died mid-way.
    children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  /** An error that Chromium or the page reported, as opposed to a lost connection. */
  static final class ProtocolError extends IllegalStateException {
    ProtocolError(String message) {
      super(message);
    }
  }

  /** Puts the frames of each message together: large answers arrive in many parts. */
  private static final class Messages implements WebSocket.Listener {
    private final StringBuilder message = new StringBuilder();
    private volatile Browser browser;

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence part, boolean last) {
      message.append(part);
      if (last) {
        String whole = message.toString();
        message.setLength(0);
        if (browser != null) {
          browser.receive(whole);
        }
      }
      socket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
      if (browser != null) {
        browser.lost(new IOException("Chromium closed the connection: " + status + " " + reason));
      }
      return null;
    }

    @Override
    public void onError(WebSocket socket, Throwable error) {
      if (browser != null) {
        browser.lost(error);
      }
    }
  }
}
