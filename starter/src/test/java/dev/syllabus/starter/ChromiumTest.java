package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The headless Chromium that the browser tests look through, against pages served here: one whose
 * text JavaScript adds half a second after it loads, as a single-page app like the Temporal Web UI
 * does; one that shows Markdown in a sandboxed frame, as the Web UI does; one taller than the
 * window.
 */
@Timeout(120)
class ChromiumTest {
  private static final String LATE_PAGE =
      """
      <!doctype html>
      <html><body>
        <h1>Syllabus</h1>
        <p id="late"></p>
        <a href="/framed">Details</a>
        <script>
          addEventListener('load', () => setTimeout(() => {
            document.getElementById('late').textContent = 'Phase easy is running';
          }, 500));
        </script>
      </body></html>
      """;
  private static final String FRAMED_PAGE =
      """
      <!doctype html>
      <html><body>
        <h1>Current Details</h1>
        <iframe src="/markdown"></iframe>
      </body></html>
      """;
  private static final String MARKDOWN =
      """
      <!doctype html>
      <html><body><ul><li><strong>easy</strong> · PAUSED at step 154</li></ul></body></html>
      """;
  private static final String TALL_PAGE =
      """
      <!doctype html>
      <html><body style="margin: 0">
        <div style="height: 2500px; background: linear-gradient(#fff, #36c)"></div>
        <p>Bottom</p>
      </body></html>
      """;

  @TempDir static Path dir;
  private static HttpServer server;
  private static Chromium chromium;
  private static String site;

  @BeforeAll
  static void startChromium() throws Exception {
    Chromium.assumeInstalled();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    serve("/late", LATE_PAGE, Map.of());
    serve("/framed", FRAMED_PAGE, Map.of());
    // As the Web UI serves its rendered Markdown: same origin, sandboxed, no scripts.
    serve(
        "/markdown",
        MARKDOWN,
        Map.of("Content-Security-Policy", "default-src 'none'; sandbox allow-same-origin"));
    serve("/tall", TALL_PAGE, Map.of());
    server.start();
    site = "http://127.0.0.1:" + server.getAddress().getPort();
    chromium = Chromium.start(dir.resolve("chromedriver.log"));
  }

  @AfterAll
  static void stopChromium() {
    if (chromium != null) {
      chromium.close();
    }
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void waitsForTextThatJavaScriptAddsLater() {
    chromium.open(site + "/late");
    assertFalse(chromium.text().contains("Phase easy is running"), "shown before the timer ran");

    String text = chromium.waitForText(Duration.ofSeconds(10), "Syllabus", "Phase easy is running");

    assertTrue(text.contains("Phase easy is running"), text);
  }

  @Test
  void textThatNeverShowsFailsNamingItAndShowingThePage() {
    chromium.open(site + "/late");

    IllegalStateException failure =
        assertThrows(
            IllegalStateException.class,
            () -> chromium.waitForText(Duration.ofMillis(1500), "Syllabus", "Nowhere to be seen"));

    assertTrue(failure.getMessage().contains("[Nowhere to be seen]"), failure.getMessage());
    assertTrue(failure.getMessage().contains("Phase easy is running"), failure.getMessage());
  }

  @Test
  void textIncludesWhatASandboxedFrameShows() {
    chromium.open(site + "/framed");

    String text = chromium.waitForText(Duration.ofSeconds(10), "Current Details", "easy · PAUSED");

    assertTrue(text.contains("easy · PAUSED at step 154"), text);
  }

  @Test
  void clickFollowsALinkByItsText() {
    chromium.open(site + "/late");

    chromium.click("Details");

    chromium.waitForText(Duration.ofSeconds(10), "Current Details", "PAUSED at step 154");
  }

  @Test
  void screenshotIsAPngOfTheWindow() throws Exception {
    chromium.open(site + "/late");
    chromium.waitForText(Duration.ofSeconds(10), "Phase easy is running");
    Path png = dir.resolve("late.png");

    chromium.screenshot(png);

    int[] size = pngSize(png);
    assertTrue(size[0] >= Chromium.WIDTH && size[1] >= Chromium.HEIGHT, Arrays.toString(size));
  }

  @Test
  void screenshotCoversAPageTallerThanTheWindow() throws Exception {
    chromium.open(site + "/tall");
    Path png = dir.resolve("tall.png");

    chromium.screenshot(png);

    int height = pngSize(png)[1];
    assertTrue(height >= 2500, "only " + height + " of the page's 2500 pixels shown");
  }

  /** Width and height from a PNG's header chunk, after checking that it is a PNG at all. */
  private static int[] pngSize(Path png) throws Exception {
    byte[] bytes = Files.readAllBytes(png);
    byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assertArrayEquals(signature, Arrays.copyOf(bytes, 8), png + " is not a PNG");
    ByteBuffer header = ByteBuffer.wrap(bytes);
    assertEquals("IHDR", new String(bytes, 12, 4, StandardCharsets.US_ASCII));
    return new int[] {header.getInt(16), header.getInt(20)};
  }

  private static void serve(String path, String html, Map<String, String> headers) {
    byte[] body = html.getBytes(StandardCharsets.UTF_8);
    server.createContext(
        path,
        exchange -> {
          exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
          headers.forEach(exchange.getResponseHeaders()::set);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
  }
}
