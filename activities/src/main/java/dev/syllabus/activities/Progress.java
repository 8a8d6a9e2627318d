package dev.syllabus.activities;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Progress read from what real trainers already print: Hugging Face Trainer log dicts ({@code
 * {'loss': 1.23, 'learning_rate': …, 'epoch': …}}, with floats or quoted floats) and tqdm counters
 * ({@code 123/1000 [00:04<00:10, …]}). Immutable: {@link #read} returns the progress after a line.
 *
 * @param step the latest phase-local step seen
 * @param maxSteps the total a tqdm counter showed, or 0
 * @param loss the latest training loss
 * @param evalLoss the latest held-out loss
 */
public record Progress(long step, long maxSteps, Double loss, Double evalLoss) {

  public static final Progress NONE = new Progress(0, 0, null, null);

  private static final String NUMBER = "-?(?:[0-9]+\\.?[0-9]*(?:[eE][-+]?[0-9]+)?|nan|inf)";
  private static final Pattern DICT_ENTRY =
      Pattern.compile("['\"](\\w+)['\"]\\s*:\\s*['\"]?(" + NUMBER + ")['\"]?");
  private static final Pattern TQDM = Pattern.compile("(?:\\|\\s*|^\\s*)(\\d+)/(\\d+)\\s*\\[");

  /** The progress after reading one line of output (a {@code \r}-separated piece counts as one). */
  public Progress read(String line) {
    String trimmed = line.strip();
    if (trimmed.startsWith("{") && trimmed.endsWith("}")) {
      return readDict(trimmed);
    }
    Matcher counter = TQDM.matcher(line);
    Progress out = this;
    while (counter.find()) {
      long at = Long.parseLong(counter.group(1));
      long of = Long.parseLong(counter.group(2));
      if (of > 0 && at <= of) {
        out = new Progress(Math.max(out.step, at), of, out.loss, out.evalLoss);
      }
    }
    return out;
  }

  private Progress readDict(String dict) {
    Matcher entry = DICT_ENTRY.matcher(dict);
    Double newLoss = loss;
    Double newEval = evalLoss;
    long newStep = step;
    while (entry.find()) {
      String key = entry.group(1);
      double value;
      try {
        value = Double.parseDouble(entry.group(2));
      } catch (NumberFormatException e) {
        continue;
      }
      switch (key) {
        case "loss", "train_loss" -> newLoss = value;
        case "eval_loss" -> newEval = value;
        case "step", "global_step" -> newStep = Math.max(newStep, (long) value);
        default -> {
          // learning_rate, epoch, grad_norm: not shown
        }
      }
    }
    return new Progress(newStep, maxSteps, newLoss, newEval);
  }
}
