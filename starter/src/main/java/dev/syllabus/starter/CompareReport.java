package dev.syllabus.starter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecord.PhaseRecord;
import dev.syllabus.activities.record.RunRecord.Point;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The page {@code compare --html} writes: the runs, their training and held-out loss over global
 * step (one colour per run, the phases drawn as bands), the table, and where their recipes differ.
 * One file that opens with no network: uPlot's script and stylesheet (from its webjar on the
 * classpath), the page's own script and the runs' series are all inside it.
 */
final class CompareReport {

  /** One colour per run (Tableau 10), in the order the runs were named; repeats after ten. */
  static final List<String> COLOURS =
      List.of(
          "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
          "#9c755f", "#bab0ac");

  private static final String WEBJAR = "META-INF/resources/webjars/uplot/";

  /** What the page's script draws: the runs with their phases, and the two charts. */
  record Data(List<RunLine> runs, List<Chart> charts) {}

  /** A run as the charts show it: its id, its colour and its phases (for the bands). */
  record RunLine(String runId, String colour, List<PhaseBand> phases) {}

  record PhaseBand(String name, long stepStart, long stepEnd) {}

  /**
   * One chart, in uPlot's layout: the steps any run logged ({@code x}) and for each run its value
   * at each of them, or null where it logged none ({@code y}).
   *
   * @param log whether the y axis is logarithmic (only when every value is above 0)
   */
  record Chart(String id, String title, List<Long> x, List<List<Double>> y, boolean log) {}

  private CompareReport() {}

  /** The page for {@code comparison}, made of {@code records} in the same order. */
  static String html(Comparison comparison, List<RunRecord> records, Instant made) {
    StringBuilder page = new StringBuilder();
    List<String> ids = comparison.runs().stream().map(Comparison.Run::runId).toList();
    String title =
        ids.size() <= 3
            ? "Syllabus: " + String.join(" vs ", ids)
            : "Syllabus: " + ids.size() + " runs compared";
    page.append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(escape(title))
        .append("</title>\n<style>\n")
        .append(uPlotFile("uPlot.min.css"))
        .append('\n')
        .append(resource("compare-report.css"))
        .append("</style>\n</head>\n<body>\n");
    page.append("<h1>Compare ")
        .append(records.size() == 1 ? "one run" : records.size() + " runs")
        .append("</h1>\n<p class=\"made\">made by <code>syllabus compare</code> at ")
        .append(escape(Comparison.time(made.toString())))
        .append("</p>\n");

    page.append(runsTable(comparison, records));
    page.append("<h2>Loss over global step</h2>\n")
        .append("<div id=\"charts\"><div class=\"chart\" id=\"loss\"></div>")
        .append("<div class=\"chart\" id=\"evalLoss\"></div></div>\n")
        .append("<p class=\"note\" id=\"chart-note\"></p>\n");
    page.append("<h2>Phases</h2>\n").append(phasesTable(comparison));
    page.append(recipeTables(comparison, records));

    page.append("<script type=\"application/json\" id=\"compare-data\">")
        .append(scriptJson(data(records)))
        .append("</script>\n<script>\n")
        .append(uPlotFile("uPlot.iife.min.js"))
        .append("\n</script>\n<script>\n")
        .append(resource("compare-report.js"))
        .append("</script>\n</body>\n</html>\n");
    return page.toString();
  }

  // --- the tables ----------------------------------------------------------------------------

  private static String runsTable(Comparison comparison, List<RunRecord> records) {
    StringBuilder html =
        new StringBuilder("<table id=\"runs\">\n")
            .append(
                header("run", "recipe", "state", "step", "started", "ended", "backend", "Syllabus"))
            .append("<tbody>\n");
    for (int i = 0; i < comparison.runs().size(); i++) {
      Comparison.Run run = comparison.runs().get(i);
      RunRecord record = records.get(i);
      html.append("<tr><td class=\"id\">")
          .append(swatch(i))
          .append(escape(run.runId()))
          .append("</td><td>")
          .append(escape(run.recipe()))
          .append("</td><td class=\"state ")
          .append(escape(Objects.toString(run.state(), "").toLowerCase(Locale.ROOT)))
          .append("\">")
          .append(escape(run.state()))
          .append("</td><td class=\"n\">")
          .append(record.step())
          .append(" / ")
          .append(record.totalSteps())
          .append("</td><td>")
          .append(escape(Comparison.time(run.startedAt())))
          .append("</td><td>")
          .append(escape(Comparison.time(run.endedAt())))
          .append("</td><td>")
          .append(escape(run.backend()))
          .append("</td><td>")
          .append(escape(record.syllabusVersion()))
          .append("</td></tr>\n");
      if (run.message() != null) {
        html.append("<tr class=\"message\"><td colspan=\"8\">")
            .append(escape(run.message()))
            .append("</td></tr>\n");
      }
    }
    return html.append("</tbody>\n</table>\n").toString();
  }

  private static String phasesTable(Comparison comparison) {
    StringBuilder html =
        new StringBuilder("<table id=\"phases\">\n")
            .append(
                header(
                    "run",
                    "phase",
                    "state",
                    "steps",
                    "loss",
                    "eval loss",
                    "wall time",
                    "GPU-hours"));
    for (int i = 0; i < comparison.runs().size(); i++) {
      Comparison.Run run = comparison.runs().get(i);
      html.append("<tbody>\n");
      List<Comparison.Row> rows = new ArrayList<>(run.phases());
      rows.add(run.total());
      for (int r = 0; r < rows.size(); r++) {
        Comparison.Row row = rows.get(r);
        html.append(r == rows.size() - 1 ? "<tr class=\"total\">" : "<tr>")
            .append("<td class=\"id\">")
            .append(r == 0 ? swatch(i) + escape(run.runId()) : "")
            .append("</td><td>")
            .append(escape(row.phase()))
            .append("</td><td>")
            .append(escape(row.state()))
            .append("</td><td class=\"n\">")
            .append(row.steps() == null ? "–" : row.steps())
            .append("</td><td class=\"n\">")
            .append(escape(Comparison.number(row.loss())))
            .append("</td><td class=\"n\">")
            .append(escape(Comparison.number(row.evalLoss())))
            .append("</td><td class=\"n\">")
            .append(escape(Comparison.duration(row.wallSeconds())))
            .append("</td><td class=\"n\">")
            .append(escape(Comparison.gpuHours(row.gpuHours())))
            .append("</td></tr>\n");
      }
      html.append("</tbody>\n");
    }
    return html.append("</table>\n").toString();
  }

  /**
   * The settings that differ (a value unlike the first run's is highlighted), then every setting of
   * every run, folded away, with the rows that differ highlighted.
   */
  private static String recipeTables(Comparison comparison, List<RunRecord> records) {
    StringBuilder html = new StringBuilder("<h2>Recipe differences</h2>\n");
    List<RecipeDifferences.Difference> differences = comparison.recipeDifferences();
    if (records.size() == 1) {
      html.append("<p class=\"note\">One run: nothing to compare its recipe with.</p>\n");
    } else if (differences.isEmpty()) {
      html.append("<p class=\"note\">The runs' recipes are the same, setting for setting.</p>\n");
    } else {
      html.append(
              "<p class=\"note\">The settings whose values are not the same in every run;"
                  + " highlighted: a value unlike the first run's.</p>\n")
          .append("<table id=\"recipe-differences\">\n")
          .append(recipeHeader(comparison))
          .append("<tbody>\n");
      for (RecipeDifferences.Difference d : differences) {
        html.append("<tr><td><code>").append(escape(d.path())).append("</code></td>");
        JsonNode first = d.values().get(0);
        for (JsonNode value : d.values()) {
          boolean changed = !Objects.equals(value, first);
          html.append(changed ? "<td class=\"changed\">" : "<td>")
              .append(escape(RecipeDifferences.shown(value)))
              .append("</td>");
        }
        html.append("</tr>\n");
      }
      html.append("</tbody>\n</table>\n");
    }

    List<Map<String, JsonNode>> flat =
        records.stream().map(r -> RecipeDifferences.flatten(r.resolvedRecipe())).toList();
    Set<String> paths = new LinkedHashSet<>();
    flat.forEach(settings -> paths.addAll(settings.keySet()));
    Set<String> differing = new TreeSet<>();
    differences.forEach(d -> differing.add(d.path()));
    html.append("<details id=\"recipes\"><summary>Every setting of the recipe")
        .append(records.size() == 1 ? "" : "s")
        .append(" (")
        .append(paths.size())
        .append(")</summary>\n<table>\n")
        .append(recipeHeader(comparison))
        .append("<tbody>\n");
    for (String path : paths) {
      html.append(differing.contains(path) ? "<tr class=\"changed\">" : "<tr>")
          .append("<td><code>")
          .append(escape(path))
          .append("</code></td>");
      for (Map<String, JsonNode> settings : flat) {
        html.append("<td>")
            .append(escape(RecipeDifferences.shown(settings.get(path))))
            .append("</td>");
      }
      html.append("</tr>\n");
    }
    return html.append("</tbody>\n</table>\n</details>\n").toString();
  }

  private static String recipeHeader(Comparison comparison) {
    StringBuilder html = new StringBuilder("<thead><tr><th>setting</th>");
    for (int i = 0; i < comparison.runs().size(); i++) {
      html.append("<th>")
          .append(swatch(i))
          .append(escape(comparison.runs().get(i).runId()))
          .append("</th>");
    }
    return html.append("</tr></thead>\n").toString();
  }

  private static String header(String... columns) {
    StringBuilder html = new StringBuilder("<thead><tr>");
    for (String column : columns) {
      html.append("<th>").append(escape(column)).append("</th>");
    }
    return html.append("</tr></thead>\n").toString();
  }

  private static String swatch(int run) {
    return "<span class=\"swatch\" style=\"background:" + colour(run) + "\"></span>";
  }

  static String colour(int run) {
    return COLOURS.get(run % COLOURS.size());
  }

  // --- the charts' data ----------------------------------------------------------------------

  static Data data(List<RunRecord> records) {
    List<RunLine> runs = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      List<PhaseBand> bands = new ArrayList<>();
      for (PhaseRecord p : records.get(i).phases()) {
        bands.add(new PhaseBand(p.name(), p.stepStart(), p.stepEnd()));
      }
      runs.add(new RunLine(records.get(i).runId(), colour(i), bands));
    }
    return new Data(
        runs,
        List.of(
            chart("loss", "Training loss", records, Point::loss),
            chart("evalLoss", "Held-out loss", records, Point::evalLoss)));
  }

  private static Chart chart(
      String id, String title, List<RunRecord> records, Function<Point, Double> metric) {
    List<Map<Long, Double>> byRun = new ArrayList<>();
    TreeSet<Long> steps = new TreeSet<>();
    for (RunRecord record : records) {
      // A step logged twice (a phase's last held-out loss and the next phase's first) keeps the
      // later phase's value.
      Map<Long, Double> values = new TreeMap<>();
      for (PhaseRecord phase : record.phases()) {
        if (phase.series() == null) {
          continue;
        }
        for (Point point : phase.series().points()) {
          Double value = metric.apply(point);
          if (value != null && Double.isFinite(value)) {
            values.put(point.step(), value);
          }
        }
      }
      steps.addAll(values.keySet());
      byRun.add(values);
    }
    List<List<Double>> y = new ArrayList<>();
    boolean positive = true;
    for (Map<Long, Double> values : byRun) {
      List<Double> line = new ArrayList<>();
      for (Long step : steps) {
        Double value = values.get(step);
        positive &= value == null || value > 0;
        line.add(value);
      }
      y.add(line);
    }
    return new Chart(id, title, new ArrayList<>(steps), y, positive && !steps.isEmpty());
  }

  // --- escaping and inlining -----------------------------------------------------------------

  /** Text made safe for HTML, in an element's text or in a quoted attribute. */
  static String escape(String text) {
    if (text == null) {
      return "–";
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * {@code value} as JSON that can sit inside a {@code <script>} element: no {@code <}, {@code >}
   * or {@code &} (so no {@code </script>} ends it early), nor the line separators some parsers take
   * for line ends. Each of them can only be inside a JSON string, where its escape means the same.
   */
  static String scriptJson(Object value) {
    String json;
    try {
      json = RunView.JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the report's data could not be written as JSON", e);
    }
    return json.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029");
  }

  /** A file of uPlot's {@code dist/}, from the webjar of the version on the classpath. */
  private static String uPlotFile(String name) {
    Properties pom = new Properties();
    try (InputStream in =
        CompareReport.class
            .getClassLoader()
            .getResourceAsStream("META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
      if (in == null) {
        throw new IllegalStateException(
            "uPlot is not on the classpath (the webjar org.webjars.npm:uplot)");
      }
      pom.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String text = read(WEBJAR + pom.getProperty("version") + "/dist/" + name);
    if (text.toLowerCase(Locale.ROOT).contains("</script") || text.contains("</style")) {
      throw new IllegalStateException(name + " cannot be inlined: it would end its element");
    }
    return text;
  }

  /** A file of the page's own, beside this class. */
  private static String resource(String name) {
    return read(CompareReport.class.getPackageName().replace('.', '/') + "/" + name);
  }

  private static String read(String resource) {
    try (InputStream in = CompareReport.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
