package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page of {@code compare --html} as a person sees it, in headless Chromium: both charts drew
 * every run's line, the legend names the runs, the tables are there, and the page fetched nothing.
 * Its screenshot goes to {@code target/screenshots/compare.png}, and to {@code
 * -Dsyllabus.screenshots} when set ({@code docs/images} for the docs).
 */
@Timeout(120)
class CompareInChromiumTest {
  @TempDir Path home;

  /** For each chart, how many of its canvas's pixels are each run's colour. */
  private static final String PIXELS_PER_RUN =
      """
      const colours = arguments[0].map(c => [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16)));
      return [...document.querySelectorAll('.chart canvas')].map(canvas => {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const counts = colours.map(() => 0);
        for (let i = 0; i < pixels.length; i += 4) {
          if (pixels[i + 3] < 250) continue;
          colours.forEach((c, r) => {
            if (Math.abs(pixels[i] - c[0]) + Math.abs(pixels[i + 1] - c[1])
                + Math.abs(pixels[i + 2] - c[2]) < 24) counts[r]++;
          });
        }
        return counts;
      });
      """;

  @Test
  void theReportDrawsEveryRunsCurvesWithTheTables() throws Exception {
    ComparePage.assumeChromium();
    CompareCommandTest.storeTheFixtures(home);
    Path page = home.resolve("compare.html");
    Cli.Result result =
        new Cli(home)
            .run("compare", CompareCommandTest.A, CompareCommandTest.B, "--html", page.toString());
    assertEquals(0, result.exitCode(), result.err());

    try (ComparePage chromium =
        ComparePage.open(page, Path.of("target", "chromedriver-compare.log"))) {
      chromium.waitUntilDrawn();

      @SuppressWarnings("unchecked")
      List<List<Number>> counts =
          (List<List<Number>>) chromium.script(PIXELS_PER_RUN, CompareReport.COLOURS.subList(0, 2));
      assertEquals(2, counts.size(), "a canvas for the loss and one for the held-out loss");
      for (List<Number> chart : counts) {
        for (Number pixels : chart) {
          assertTrue(pixels.intValue() > 200, "every run's line drawn: " + counts);
        }
      }
      String legends = chromium.text(".u-legend");
      assertTrue(legends.contains(CompareCommandTest.A), legends);
      assertTrue(legends.contains(CompareCommandTest.B), legends);
      String phases = chromium.text("#phases");
      assertTrue(phases.contains("total") && phases.contains("0.000841"), phases);
      assertEquals(
          "0.003", chromium.text("#recipe-differences td.changed").lines().findFirst().orElse(""));
      assertEquals(
          0L,
          chromium.script("return performance.getEntriesByType('resource').length"),
          "the page opens with no network: it fetched nothing");

      Path shot = Path.of("target", "screenshots", "compare.png");
      chromium.screenshot(shot);
      String docs = System.getProperty("syllabus.screenshots");
      if (docs != null) {
        Files.createDirectories(Path.of(docs));
        Files.copy(shot, Path.of(docs, "compare.png"), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
