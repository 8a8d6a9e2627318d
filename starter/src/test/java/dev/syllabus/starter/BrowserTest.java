package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The headless Chromium that the UI tests look through, against pages served here: one whose text
 * JavaScript adds half a second after it loads, as a single-page app like the Temporal Web UI does,
 * and one taller than the window whose screenshot is megabytes.
 */
@Timeout(120)
class BrowserTest {
  private static final String LATE_PAGE =
      """
      <!doctype html>
      <html><body>
        <h1>Syllabus</h1>
        <p id="late"></p>
        <script>
          addEventListener('load', () => setTimeout(() => {
            document.getElementById('late').textContent = 'Phase easy is running';
          }, 500));
        </script>
      </body></html>
      """;
  private static final String TALL_PAGE =
      """
      <!doctype html>
      <html><body style="margin: 0">
        <canvas id="noise" width="1600" height="2500" style="display: block"></canvas>
        <p>Bottom</p>
        <script>
          // Noise does not compress: its PNG is megabytes, sent back in many WebSocket frames.
          const canvas = document.getElementById('noise');
          const context = canvas.getContext('2d');
          const pixels = context.createImageData(canvas.width, canvas.height);
          for (let i = 0; i < pixels.data.length; i++) {
            pixels.data[i] = i % 4 === 3 ? 255 : Math.random() * 256;
          }
          context.putImageData(pixels, 0, 0);
        </script>
      </body></html>
      """;

  @TempDir static Path dir;
  private static HttpServer server;
  private static Browser browser;
  private static String site;

  @BeforeAll
  static void startBrowser() throws Exception {
    assumeTrue(
        Browser.find().isPresent(),
        "no Chromium on this machine (apt-get install -y chromium): browser tests skipped");
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    serve("/late", LATE_PAGE);
    serve("/tall", TALL_PAGE);
    server.start();
    site = "http://127.0.0.1:" + server.getAddress().getPort();
    browser = Browser.start(dir.resolve("profile"));
  }

  @AfterAll
  static void stopBrowser() {
    if (browser != null) {
      browser.close();
    }
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void waitsForTextThatJavaScriptAddsLater() throws Exception {
    browser.open(site + "/late");
    assertFalse(browser.text().contains("Phase easy is running"), "shown before the timer ran");

    String text = browser.waitForText(Duration.ofSeconds(10), "Syllabus", "Phase easy is running");

    assertTrue(text.contains("Phase easy is running"), text);
  }

  @Test
  void textThatNeverShowsFailsNamingItAndShowingThePage() throws Exception {
    browser.open(site + "/late");

    IllegalStateException failure =
        assertThrows(
            IllegalStateException.class,
            () -> browser.waitForText(Duration.ofMillis(1500), "Syllabus", "Nowhere to be seen"));

    assertTrue(failure.getMessage().contains("[Nowhere to be seen]"), failure.getMessage());
    assertTrue(failure.getMessage().contains("Phase easy is running"), failure.getMessage());
  }

  @Test
  void screenshotIsAPngOfTheWindow() throws Exception {
    browser.open(site + "/late");
    browser.waitForText(Duration.ofSeconds(10), "Phase easy is running");
    Path png = dir.resolve("late.png");

    browser.screenshot(png);

    int[] size = pngSize(png);
    assertTrue(size[0] >= Browser.WIDTH && size[1] >= Browser.HEIGHT, Arrays.toString(size));
  }

  @Test
  void screenshotCoversAPageTallerThanTheWindowHoweverLarge() throws Exception {
    browser.open(site + "/tall");
    Path png = dir.resolve("tall.png");

    browser.screenshot(png);

    int height = pngSize(png)[1];
    assertTrue(height >= 2500, "only " + height + " of the page's 2500 pixels shown");
    assertTrue(Files.size(png) > 5_000_000, "a noisy page of " + Files.size(png) + " bytes");
  }

  @Test
  void evaluateGivesPlainJavaValues() {
    browser.open(site + "/tall");

    assertEquals(2, browser.evaluate("[...document.querySelectorAll('canvas, p')].length"));
    assertEquals("Bottom", browser.evaluate("document.querySelector('p').textContent"));
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

  private static void serve(String path, String html) {
    byte[] body = html.getBytes(StandardCharsets.UTF_8);
    server.createContext(
        path,
        exchange -> {
          exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
  }
}
