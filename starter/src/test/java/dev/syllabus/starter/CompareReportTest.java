package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The HTML page of {@code compare --html}, as text: what goes into it is escaped, the charts' data
 * lines the runs up by step, and a loss that is not above 0 gets a linear scale. (How it looks in a
 * browser: {@link CompareInChromiumTest}.)
 */
class CompareReportTest {
  private static final String HOSTILE = "</script><script>alert(\"x\")</script> & 'y' <b>";

  private static RunRecord fixture(String run) throws Exception {
    return RunRecords.read(CompareCommandTest.fixture(run));
  }

  /** The fixture {@code A} with {@code HOSTILE} in its recipe, its message and a phase's name. */
  private static RunRecord hostile() throws Exception {
    ObjectNode a =
        (ObjectNode)
            RunView.JSON.readTree(CompareCommandTest.fixture(CompareCommandTest.A).toFile());
    ((ObjectNode) a.get("resolvedRecipe")).put("description", HOSTILE);
    ((ObjectNode) a.get("phases").get(0)).put("name", HOSTILE);
    a.put("state", "FAILED").put("message", HOSTILE);
    return RunView.JSON.treeToValue(a, RunRecord.class);
  }

  private static String page(List<RunRecord> records) {
    List<String> files = records.stream().map(r -> r.runId() + "/record.json").toList();
    return CompareReport.html(Comparison.of(records, files), records, Instant.EPOCH);
  }

  @Test
  void whatGoesIntoThePageIsEscaped() throws Exception {
    String html = page(List.of(hostile(), fixture(CompareCommandTest.B)));

    assertFalse(html.contains(HOSTILE), "nowhere as it is");
    assertFalse(html.contains("<script>alert"), html);
    assertTrue(
        html.contains(
            "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &lt;b&gt;"),
        "in the tables as text");
    assertTrue(
        html.contains("\\u003c/script\\u003e\\u003cscript\\u003ealert(\\\"x\\\")"),
        "in the charts' data (a phase name) as JSON escapes");
    assertEquals(3, html.split("<script", -1).length - 1, "the data, uPlot and the page's script");
  }

  @Test
  void escapeCoversTextAndAttributes() {
    assertEquals(
        "a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;", CompareReport.escape("a <b> & \"c\" 'd'"));
  }

  @Test
  void scriptJsonCannotEndItsElement() {
    String json = CompareReport.scriptJson(List.of("</script>", "a&b", "\u2028"));

    assertEquals("[ \"\\u003c/script\\u003e\", \"a\\u0026b\", \"\\u2028\" ]", json);
  }

  @Test
  void theChartsLineTheRunsUpByStep() throws Exception {
    CompareReport.Data data =
        CompareReport.data(List.of(fixture(CompareCommandTest.A), fixture(CompareCommandTest.B)));

    CompareReport.Chart eval = data.charts().get(1);
    assertEquals("evalLoss", eval.id());
    assertTrue(eval.log(), "every held-out loss is above 0");
    assertEquals(0L, eval.x().get(0));
    assertEquals(3000L, eval.x().get(eval.x().size() - 1));
    assertEquals(0.000841, eval.y().get(0).get(eval.x().size() - 1), "A's last");
    assertEquals(0.00071, eval.y().get(1).get(eval.x().size() - 1), "B's last");
    assertEquals(
        List.of("easy", "medium", "hard"),
        data.runs().get(0).phases().stream().map(CompareReport.PhaseBand::name).toList());
    assertEquals(CompareReport.COLOURS.get(1), data.runs().get(1).colour());
  }

  @Test
  void aLossThatIsNotAboveZeroGetsALinearScale() throws Exception {
    ObjectNode a =
        (ObjectNode)
            RunView.JSON.readTree(CompareCommandTest.fixture(CompareCommandTest.A).toFile());
    ((ArrayNode) a.at("/phases/0/series/points"))
        .addObject()
        .put("step", 899)
        .put("loss", -0.5)
        .put("learningRate", 0.01);

    CompareReport.Data data =
        CompareReport.data(List.of(RunView.JSON.treeToValue(a, RunRecord.class)));

    assertFalse(data.charts().get(0).log(), "training loss with a value below 0");
    assertTrue(data.charts().get(1).log(), "held-out loss, all above 0");
  }
}
