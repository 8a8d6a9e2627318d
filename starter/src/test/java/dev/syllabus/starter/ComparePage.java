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
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page of {@code compare --html} open in a headless Chromium, driven by Selenium WebDriver
 * through Debian's {@code chromedriver} (which matches Debian's {@code chromium}). Both are named
 * explicitly, so Selenium Manager never looks for, nor downloads, a driver or a browser.
 */
final class ComparePage implements AutoCloseable {
  static final Path BROWSER = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  static final int WIDTH = 1400;
  static final int HEIGHT = 900;

  private final ChromeDriver driver;

  private ComparePage(ChromeDriver driver) {
    this.driver = driver;
  }

  /**
   * Skips the test when Chromium or its driver is missing; fails it instead, naming what is
   * missing, when {@code SYLLABUS_REQUIRE_CHROMIUM} is set (as {@code .ci/run} sets it).
   */
  static void assumeChromium() {
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(BROWSER)) {
      missing.add("no " + BROWSER + " (apt-get install -y chromium)");
    }
    if (!Files.isExecutable(DRIVER)) {
      missing.add("no " + DRIVER + " (apt-get install -y chromium-driver)");
    }
    if (!missing.isEmpty() && System.getenv("SYLLABUS_REQUIRE_CHROMIUM") != null) {
      fail(String.join(", ", missing) + ", and SYLLABUS_REQUIRE_CHROMIUM is set");
    }
    assumeTrue(missing.isEmpty(), () -> String.join(", ", missing) + ": browser test skipped");
  }

  /**
   * Opens {@code page} (a file) in a new headless Chromium; the driver's log goes to {@code log}.
   */
  static ComparePage open(Path page, Path log) throws IOException {
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
        "--hide-scrollbars",
        "--window-size=" + WIDTH + "," + HEIGHT,
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run");
    if ("root".equals(System.getProperty("user.name"))) {
      options.addArguments("--no-sandbox"); // Chromium refuses to sandbox itself as root
    }
    ChromeDriver driver = new ChromeDriver(service, options);
    try {
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
      driver.get(page.toUri().toString());
      return new ComparePage(driver);
    } catch (RuntimeException e) {
      driver.quit();
      throw e;
    }
  }

  /** Waits until the page's script has drawn its charts. */
  void waitUntilDrawn() {
    new WebDriverWait(driver, Duration.ofSeconds(20))
        .withMessage("the page's script to draw its charts (body[data-drawn])")
        .until(d -> "true".equals(script("return document.body.dataset.drawn || ''")));
  }

  /** Runs {@code javaScript} in the page and returns what it returns. */
  Object script(String javaScript, Object... arguments) {
    return driver.executeScript(javaScript, arguments);
  }

  /** The text a person sees in the elements {@code selector} matches, one line each. */
  String text(String selector) {
    return String.valueOf(
        script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText).join('\\n')",
            selector));
  }

  /** Saves a PNG of the whole page, below the window too. */
  void screenshot(Path png) throws IOException {
    Number height = (Number) script("return document.documentElement.scrollHeight");
    Map<String, Object> shot =
        driver.executeCdpCommand(
            "Page.captureScreenshot",
            Map.of(
                "format",
                "png",
                "captureBeyondViewport",
                true,
                "clip",
                Map.of("x", 0, "y", 0, "width", WIDTH, "height", height.intValue(), "scale", 1)));
    Files.createDirectories(png.toAbsolutePath().getParent());
    Files.write(png, Base64.getDecoder().decode((String) shot.get("data")));
  }

  @Override
  public void close() {
    driver.quit();
  }
}
