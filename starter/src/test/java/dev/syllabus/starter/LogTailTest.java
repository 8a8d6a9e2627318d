package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code logs --tail}: where the last lines of a log start, and whole lines printed. */
class LogTailTest {
  @TempDir Path dir;

  private String tail(String text, int lines) throws Exception {
    Path file = dir.resolve("output.log");
    Files.writeString(file, text);
    long start = LogTail.startOfLast(file, lines);
    return text.substring((int) start);
  }

  @Test
  void theLastLinesOfALogThatEndsWithANewline() throws Exception {
    assertEquals("c\nd\n", tail("a\nb\nc\nd\n", 2));
  }

  @Test
  void aLastLineStillBeingWrittenCountsAsALine() throws Exception {
    assertEquals("c\nd", tail("a\nb\nc\nd", 2));
  }

  @Test
  void moreLinesThanTheLogHasIsTheWholeLog() throws Exception {
    assertEquals("a\nb\n", tail("a\nb\n", 5));
    assertEquals("", tail("", 5));
  }

  @Test
  void noLinesIsNothing() throws Exception {
    assertEquals("", tail("a\nb\n", 0));
  }

  @Test
  void linesLongerThanABlockAreFound() throws Exception {
    String longLine = "x".repeat(200_000);
    assertEquals(longLine + "\nlast\n", tail("first\n" + longLine + "\nlast\n", 2));
  }

  @Test
  void bytesArePrintedAWholeLineAtATime() {
    StringWriter printed = new StringWriter();
    LogLines lines = new LogLines(new PrintWriter(printed));
    byte[] text = "héllo\nwor".getBytes(StandardCharsets.UTF_8);
    lines.write(text, 0, 2); // half of é
    assertEquals("", printed.toString());
    lines.write(text, 2, text.length - 2);
    assertEquals("héllo\n", printed.toString());
    lines.flush();
    assertEquals("héllo\nwor", printed.toString());
  }
}
