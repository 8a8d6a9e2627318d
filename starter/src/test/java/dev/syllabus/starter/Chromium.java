package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium for the tests that look at a web page as a person would (the Temporal Web UI,
 * an HTML report): open it, wait until some text shows, click, save a screenshot. It is driven by
 * Selenium WebDriver through Debian's {@code chromedriver}, which matches Debian's {@code chromium}
 * ({@code apt-get install -y chromium chromium-driver}); both are named explicitly, so Selenium
 * Manager never looks for (or downloads) a driver or a browser.
 *
 * <p>Tests call {@link #assumeInstalled()} (or {@link #installed()}) first: without Chromium or its
 * driver they skip, unless {@code SYLLABUS_REQUIRE_CHROMIUM} is set, as {@code .ci/run} sets it;
 * then they fail saying what is missing.
 */
final class Chromium implements AutoCloseable {
  static final Path BROWSER = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  static final int WIDTH = 1600;
  static final int HEIGHT = 1000;

  private static final String REQUIRED = "SYLLABUS_REQUIRE_CHROMIUM";
  private static final long POLL_MILLIS = 250;
  // Chromium cannot paint a bitmap taller than this in one go.
  private static final int MAX_SHOT_HEIGHT = 16_384;

  /**
   * The text a person sees: the page's, then that of each frame in it. The Temporal UI shows
   * Markdown (a run's summary and details) in iframes of its own origin, sandboxed without scripts:
   * WebDriver cannot run its own script inside them, but the page can read their documents.
   */
  private static final String TEXT =
      """
      const texts = [document.body ? document.body.innerText : ''];
      for (const frame of document.querySelectorAll('iframe')) {
        try {
          const body = frame.contentDocument && frame.contentDocument.body;
          if (body) texts.push(body.innerText);
        } catch (crossOrigin) {}
      }
      return texts.join('\\n');
      """;

  /**
   * Selenium looks for CDP classes matching Chromium's version and warns when there are none; these
   * tests need none (the screenshot's two commands go through chromedriver as they are). Held here
   * so that the level set on it is not lost with a collected logger.
   */
  private static final Logger CDP_VERSIONS =
      Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

  private final ChromeDriver driver;
  private final int width;
  private final int height;

  private Chromium(ChromeDriver driver, int width, int height) {
    this.driver = driver;
    this.width = width;
    this.height = height;
  }

  /** What the browser tests miss on this machine, or empty when they can run. */
  static Optional<String> missing() {
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(BROWSER)) {
      missing.add("no " + BROWSER + " (apt-get install -y chromium)");
    }
    if (!Files.isExecutable(DRIVER)) {
      missing.add("no " + DRIVER + " (apt-get install -y chromium-driver)");
    }
    return missing.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", missing));
  }

  /**
   * Whether Chromium and its driver are here. When they are not and {@code
   * SYLLABUS_REQUIRE_CHROMIUM} is set, fails the test instead, saying what is missing.
   */
  static boolean installed() {
    Optional<String> missing = missing();
    if (missing.isPresent() && System.getenv(REQUIRED) != null) {
      fail(missing.get() + ", and " + REQUIRED + " is set");
    }
    return missing.isEmpty();
  }

  /** Skips the test when Chromium or its driver is missing, unless they are required. */
  static void assumeInstalled() {
    assumeTrue(installed(), () -> missing().orElse("") + ": browser test skipped");
  }

  /**
   * Starts a headless Chromium with a blank page, {@value #WIDTH}×{@value #HEIGHT}; the driver's
   * log goes to {@code log}.
   */
  static Chromium start(Path log) throws IOException {
    return start(log, WIDTH, HEIGHT);
  }

  /** Starts a headless Chromium whose page is {@code width}×{@code height} pixels. */
  static Chromium start(Path log, int width, int height) throws IOException {
    CDP_VERSIONS.setLevel(Level.SEVERE);
    Files.createDirectories(log.toAbsolutePath().getParent());
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(DRIVER.toFile())
            .usingAnyFreePort()
            .withLogFile(log.toFile())
            .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(BROWSER.toFile());
    options.addArguments(
        "--headless=new",
        "--disable-gpu",
        "--window-size=" + width + "," + height,
        "--hide-scrollbars",
        // This machine's network refuses Chromium's own connections: make none.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run");
    if ("root".equals(System.getProperty("user.name"))) {
      options.addArguments("--no-sandbox"); // Chromium refuses to sandbox itself as root
    }
    ChromeDriver driver = new ChromeDriver(service, options);
    try {
      // --window-size is the window's, with whatever it draws around the page: make the page's
      // viewport that size, so that screenshots show the page as a screen of that size does.
      @SuppressWarnings("unchecked")
      List<Number> frame =
          (List<Number>)
              driver.executeScript("return [outerWidth - innerWidth, outerHeight - innerHeight];");
      driver
          .manage()
          .window()
          .setSize(
              new Dimension(width + frame.get(0).intValue(), height + frame.get(1).intValue()));
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
      driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    } catch (RuntimeException e) {
      driver.quit();
      throw e;
    }
    return new Chromium(driver, width, height);
  }

  /** The WebDriver, for what this class does not do itself. */
  WebDriver driver() {
    return driver;
  }

  /** Opens {@code url} and waits for its load event. */
  void open(String url) {
    driver.get(url);
  }

  /**
   * Runs {@code javaScript} in the page (its {@code arguments} as {@code arguments[0]}, …) and
   * returns its value: a String, Long, Double, Boolean, List, Map, or null.
   */
  Object script(String javaScript, Object... arguments) {
    return driver.executeScript(javaScript, arguments);
  }

  /** The text a person sees on the page, its frames' included. */
  String text() {
    Object text = driver.executeScript(TEXT);
    return text == null ? "" : text.toString();
  }

  /**
   * Waits until the page shows every one of {@code needles} and returns its text then; fails naming
   * the missing ones and showing what the page shows instead.
   */
  String waitForText(Duration timeout, String... needles) {
    List<String> missing = new ArrayList<>(List.of(needles));
    StringBuilder shown = new StringBuilder();
    try {
      return waitFor(
          timeout,
          "the page to show " + List.of(needles),
          page -> {
            String text = text();
            shown.setLength(0);
            shown.append(text);
            missing.clear();
            for (String needle : needles) {
              if (!text.contains(needle)) {
                missing.add(needle);
              }
            }
            return missing.isEmpty() ? text : null;
          });
    } catch (TimeoutException e) {
      String text = shown.length() > 2000 ? shown.substring(0, 2000) + "…" : shown.toString();
      throw new IllegalStateException(
          "the page did not show "
              + missing
              + " within "
              + timeout.toMillis()
              + " ms; it shows:\n"
              + text,
          e);
    }
  }

  /**
   * Waits until {@code condition} gives something other than null or false, and returns it;
   * re-tried every {@value #POLL_MILLIS} ms, including when it throws because the page is changing
   * under it. Throws {@link TimeoutException} naming {@code what} when it never does.
   */
  <T> T waitFor(Duration timeout, String what, Function<WebDriver, T> condition) {
    return new WebDriverWait(driver, timeout)
        .pollingEvery(Duration.ofMillis(POLL_MILLIS))
        .ignoring(WebDriverException.class)
        .withMessage("waited for " + what)
        .until(condition::apply);
  }

  /** Clicks the link, button or tab whose text starts with {@code label}, once it shows. */
  void click(String label) {
    WebElement target =
        waitFor(
            Duration.ofSeconds(30),
            "a link, button or tab '" + label + "'",
            page ->
                page.findElements(By.cssSelector("a, button, [role=tab]")).stream()
                    .filter(e -> e.isDisplayed() && e.getText().strip().startsWith(label))
                    .findFirst()
                    .orElse(null));
    target.click();
  }

  /**
   * Saves a PNG of the whole page, beyond the window when the page is taller (up to {@value
   * #MAX_SHOT_HEIGHT} pixels).
   */
  void screenshot(Path png) throws IOException {
    Map<String, Object> metrics = driver.executeCdpCommand("Page.getLayoutMetrics", Map.of());
    @SuppressWarnings("unchecked")
    Map<String, Object> content = (Map<String, Object>) metrics.get("cssContentSize");
    double shotWidth = Math.max(width, Math.ceil(((Number) content.get("width")).doubleValue()));
    double shotHeight =
        Math.min(
            MAX_SHOT_HEIGHT,
            Math.max(height, Math.ceil(((Number) content.get("height")).doubleValue())));
    Map<String, Object> shot =
        driver.executeCdpCommand(
            "Page.captureScreenshot",
            Map.of(
                "format",
                "png",
                "captureBeyondViewport",
                true,
                "clip",
                Map.of("x", 0, "y", 0, "width", shotWidth, "height", shotHeight, "scale", 1)));
    if (png.toAbsolutePath().getParent() != null) {
      Files.createDirectories(png.toAbsolutePath().getParent());
    }
    Files.write(png, Base64.getDecoder().decode((String) shot.get("data")));
  }

  @Override
  public void close() {
    driver.quit();
  }
}
