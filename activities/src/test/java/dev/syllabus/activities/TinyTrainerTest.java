package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The tiny trainer's own tests (Python's unittest), so that {@code mvn verify} runs them too. */
class TinyTrainerTest {

  @Test
  void theTrainersOwnTestsPass() throws Exception {
    Process python =
        new ProcessBuilder("python3", "-m", "unittest", "-v")
            .directory(Path.of("..", "examples", "tiny").toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    python.waitFor(5, TimeUnit.MINUTES);
    assertEquals(0, python.exitValue(), output);
  }
}
