package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Progress from what trainers print. */
class ProgressTest {

  @Test
  void aHuggingFaceLogDictGivesTheLoss() {
    Progress p =
        Progress.NONE.read(
            "{'loss': 1.2345, 'grad_norm': 3.1, 'learning_rate': 2e-05, 'epoch': 0.5}");
    assertEquals(1.2345, p.loss());
    assertNull(p.evalLoss());
  }

  @Test
  void quotedFloatsAreReadToo() {
    Progress p =
        Progress.NONE.read("{'loss': '0.8123', 'learning_rate': '1.9e-05', 'epoch': '0.12'}");
    assertEquals(0.8123, p.loss());
  }

  @Test
  void evalLossIsKeptApartFromTrainingLoss() {
    Progress p = Progress.NONE.read("{'loss': 0.5}").read("{'eval_loss': 0.25, 'epoch': 1.0}");
    assertEquals(0.5, p.loss());
    assertEquals(0.25, p.evalLoss());
  }

  @Test
  void aTqdmCounterGivesTheStepAndTotal() {
    Progress p = Progress.NONE.read(" 40%|####      | 400/1000 [00:04<00:06, 95.12it/s]");
    assertEquals(400, p.step());
    assertEquals(1000, p.maxSteps());
  }

  @Test
  void carriageReturnSeparatedCountersEachCount() {
    Progress p = Progress.NONE;
    for (String piece :
        "  1%|          | 10/1000 [00:00<?, ?it/s]\r  2%|▏         | 20/1000 [00:01<00:50]"
            .split("\r")) {
      p = p.read(piece);
    }
    assertEquals(20, p.step());
  }

  @Test
  void aStepKeyInTheLogDictCounts() {
    assertEquals(150, Progress.NONE.read("{'loss': 0.1, 'step': 150}").step());
  }

  @Test
  void otherLinesChangeNothing() {
    Progress p =
        Progress.NONE
            .read("{'loss': 0.3}")
            .read("Saving model checkpoint to /out/checkpoint-500 (2024/10/1)");
    assertEquals(0.3, p.loss());
    assertEquals(0, p.step());
  }

  @Test
  void theStepNeverGoesBackwards() {
    Progress p = Progress.NONE.read("| 500/1000 [").read("| 20/1000 [");
    assertEquals(500, p.step());
  }
}
