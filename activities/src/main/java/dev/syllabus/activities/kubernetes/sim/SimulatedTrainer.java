package dev.syllabus.activities.kubernetes.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A trainer that keeps the job contract the way a Hugging Face Trainer run with {@code max_steps}
 * does, without doing any maths: it reads the {@code SYLLABUS_*} environment, resumes after the
 * latest complete {@code checkpoint-N/} in its output folder, takes a step every {@code
 * trainerSpeed}, prints tqdm bars (redrawn with {@code \r}) and log dicts (alternately with floats
 * and with quoted floats), an {@code eval_loss} now and then, saves checkpoints atomically ({@code
 * tmp-checkpoint-N/} renamed when {@code trainer_state.json} is written), and on SIGTERM saves
 * {@code checkpoint-<step>} and exits 0. The loss falls with the global step.
 */
final class SimulatedTrainer implements ContainerProcess {
  private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String BLOCKS = " ▏▎▍▌▋▊▉█";
  private static final double LEARNING_RATE = 2e-05;

  private final Context context;
  private final int oomAfterSteps;
  private final List<Map<String, Object>> logHistory = new ArrayList<>();
  private String outputPath;
  private Path outputDir;
  private int start;
  private int total;
  private int step;
  private int firstStep;
  private long startedNanos;
  private int dictsPrinted;
  private double lossSinceLog;
  private int stepsSinceLog;
  private String bar = "";
  private ScheduledFuture<?> ticks;
  private boolean running;

  /** A trainer; one with {@code oomAfterSteps >= 0} is killed for memory after that many steps. */
  SimulatedTrainer(Context context, int oomAfterSteps) {
    this.context = context;
    this.oomAfterSteps = oomAfterSteps;
  }

  @Override
  public void start() {
    context.ready().run();
    Map<String, String> env = context.env();
    String missing =
        Stream.of("SYLLABUS_STEP_START", "SYLLABUS_STEP_END", "SYLLABUS_OUTPUT_DIR")
            .filter(name -> env.getOrDefault(name, "").isBlank())
            .findFirst()
            .orElse(null);
    if (missing != null) {
      crash("KeyError: '" + missing + "'", 1);
      return;
    }
    int end;
    try {
      start = Integer.parseInt(env.get("SYLLABUS_STEP_START").trim());
      end = Integer.parseInt(env.get("SYLLABUS_STEP_END").trim());
    } catch (NumberFormatException e) {
      crash("ValueError: invalid literal for int() with base 10: " + e.getMessage(), 1);
      return;
    }
    total = end - start;
    if (total <= 0) {
      crash("ValueError: max_steps must be positive, got " + total, 1);
      return;
    }
    for (String input : List.of("SYLLABUS_INPUT_MODEL", "SYLLABUS_INPUT_OPTIMIZER")) {
      String path = env.getOrDefault(input, "");
      if (path.startsWith("/") && !Files.isDirectory(context.files().host(path))) {
        crash(
            "OSError: Can't load the checkpoint at '"
                + path
                + "'. Make sure that it is a directory holding a saved model.",
            1);
        return;
      }
    }
    outputPath = env.get("SYLLABUS_OUTPUT_DIR").replaceFirst("/+$", "");
    outputDir = context.files().host(outputPath);
    try {
      Files.createDirectories(outputDir);
      step = latestCheckpoint();
    } catch (IOException e) {
      crash("OSError: " + e.getMessage(), 1);
      return;
    }
    firstStep = step;
    say(
        "[INFO|trainer.py] phase "
            + env.getOrDefault("SYLLABUS_PHASE", "?")
            + " of run "
            + env.getOrDefault("SYLLABUS_RUN_ID", "?")
            + ": global steps "
            + start
            + ".."
            + end
            + ", model "
            + (env.getOrDefault("SYLLABUS_INPUT_MODEL", "").isEmpty()
                ? "(none)"
                : env.get("SYLLABUS_INPUT_MODEL")));
    say("***** Running training *****");
    say("  Num examples = " + String.format(Locale.ROOT, "%,d", total * 8));
    say("  Num Epochs = 1");
    say("  Instantaneous batch size per device = 8");
    say("  Total optimization steps = " + String.format(Locale.ROOT, "%,d", total));
    if (step > 0) {
      say("  Continuing training from checkpoint, will skip to saved global_step");
      say("  Continuing training from global step " + step);
    }
    running = true;
    if (step >= total) {
      say("Training already complete at step " + step + " of " + total);
      finish();
      return;
    }
    startedNanos = System.nanoTime();
    redrawBar();
    ticks = context.every(context.settings().trainerSpeed(), this::step);
  }

  /** One optimisation step and what a real run prints and saves after it. */
  private void step() {
    if (!running) {
      return;
    }
    step++;
    lossSinceLog += loss(start + step);
    stepsSinceLog++;
    redrawBar();
    if (oomAfterSteps >= 0 && step - firstStep >= oomAfterSteps) {
      stop();
      context.exit().exited(137, "OOMKilled");
      return;
    }
    SimulatedCluster.Settings settings = context.settings();
    if (step % settings.logEvery() == 0 || step == total) {
      printLogDict();
    }
    if (step % settings.evalEvery() == 0) {
      printDict(
          Map.of(
              "eval_loss", loss(start + step) * 1.04 + 0.0123456789,
              "eval_runtime", 0.5123,
              "eval_samples_per_second", 195.2,
              "eval_steps_per_second", 24.4,
              "epoch", epoch()),
          List.of(
              "eval_loss",
              "eval_runtime",
              "eval_samples_per_second",
              "eval_steps_per_second",
              "epoch"),
          false);
    }
    if (step == total) {
      finish();
    } else if (step % settings.checkpointEvery() == 0) {
      save(step);
    }
  }

  /** The last step is done: the last checkpoint, the summary, exit 0. */
  private void finish() {
    stop();
    if (!save(total)) {
      return;
    }
    tqdmWrite("");
    tqdmWrite("Training completed. Do not forget to share your model on huggingface.co/models =)");
    tqdmWrite("");
    double seconds = Math.max(0.001, (System.nanoTime() - startedNanos) / 1e9);
    printDict(
        Map.of(
            "train_runtime", round(seconds, 4),
            "train_samples_per_second", round(8 * (total - firstStep) / seconds, 3),
            "train_steps_per_second", round((total - firstStep) / seconds, 3),
            "train_loss", round(loss(start + total) * 1.3, 4),
            "epoch", 1.0),
        List.of(
            "train_runtime",
            "train_samples_per_second",
            "train_steps_per_second",
            "train_loss",
            "epoch"),
        false);
    context.log().write("\n");
    context.exit().exited(0, null);
  }

  @Override
  public void terminate() {
    if (!running) {
      return;
    }
    stop();
    context.log().write("\n");
    say(
        "[INFO|trainer.py] received SIGTERM at step "
            + step
            + ": saving checkpoint-"
            + step
            + " and exiting");
    if (save(step)) {
      context.exit().exited(0, null);
    }
  }

  @Override
  public void kill() {
    stop();
  }

  private void stop() {
    running = false;
    if (ticks != null) {
      ticks.cancel(false);
    }
  }

  /**
   * Saves {@code checkpoint-<n>} under a temporary name and renames it once {@code
   * trainer_state.json}, written last, is there. Returns false (and exits 1) when it cannot.
   */
  private boolean save(int n) {
    Path done = outputDir.resolve("checkpoint-" + n);
    if (Files.isRegularFile(done.resolve("trainer_state.json"))) {
      return true;
    }
    Path temporary = outputDir.resolve("tmp-checkpoint-" + n);
    try {
      deleteTree(temporary);
      Files.createDirectories(temporary);
      Map<String, String> env = context.env();
      Files.writeString(
          temporary.resolve("model.safetensors"),
          "simulated model: global step "
              + (start + n)
              + ", from "
              + env.getOrDefault("SYLLABUS_INPUT_MODEL", "")
              + "\n");
      Files.writeString(
          temporary.resolve("optimizer.pt"),
          "simulated optimizer state: step "
              + n
              + ", carried from "
              + env.getOrDefault("SYLLABUS_INPUT_OPTIMIZER", "")
              + "\n");
      Map<String, Object> state = new LinkedHashMap<>();
      state.put("best_metric", null);
      state.put("best_model_checkpoint", null);
      state.put("epoch", epochAt(n));
      state.put("eval_steps", context.settings().evalEvery());
      state.put("global_step", n);
      state.put("is_local_process_zero", true);
      state.put("is_world_process_zero", true);
      state.put("log_history", logHistory);
      state.put("logging_steps", context.settings().logEvery());
      state.put("max_steps", total);
      state.put("num_train_epochs", 1);
      state.put("save_steps", context.settings().checkpointEvery());
      state.put("train_batch_size", 8);
      Files.writeString(temporary.resolve("trainer_state.json"), JSON.writeValueAsString(state));
      deleteTree(done);
      Files.move(temporary, done, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      crash("OSError: could not save " + outputPath + "/checkpoint-" + n + ": " + e, 1);
      return false;
    }
    tqdmWrite("[INFO|trainer.py] Saving model checkpoint to " + outputPath + "/checkpoint-" + n);
    return true;
  }

  /** The step of the latest complete checkpoint in the output folder, 0 when there is none. */
  private int latestCheckpoint() throws IOException {
    int latest = 0;
    Path latestDir = null;
    try (Stream<Path> children = Files.list(outputDir)) {
      for (Path child : children.toList()) {
        Matcher m = CHECKPOINT.matcher(child.getFileName().toString());
        Path state = child.resolve("trainer_state.json");
        if (m.matches() && Files.isRegularFile(state) && Integer.parseInt(m.group(1)) > latest) {
          try {
            JSON.readTree(state.toFile());
          } catch (IOException unreadable) {
            continue;
          }
          latest = Integer.parseInt(m.group(1));
          latestDir = child;
        }
      }
    }
    if (latestDir != null) {
      JsonNode history = JSON.readTree(latestDir.resolve("trainer_state.json").toFile());
      history
          .path("log_history")
          .forEach(entry -> logHistory.add(JSON.convertValue(entry, LinkedHashMap.class)));
    }
    return latest;
  }

  private void printLogDict() {
    double loss = round(lossSinceLog / Math.max(1, stepsSinceLog), 4);
    lossSinceLog = 0;
    stepsSinceLog = 0;
    Map<String, Double> values =
        Map.of(
            "loss",
            loss,
            "grad_norm",
            0.4 + 3.0 * Math.exp(-(start + step) / 50.0) + 0.01 * Math.sin(step),
            "learning_rate",
            LEARNING_RATE * (1 - (double) step / total),
            "epoch",
            epoch());
    boolean quoted = dictsPrinted++ % 2 == 1;
    printDict(values, List.of("loss", "grad_norm", "learning_rate", "epoch"), quoted);
    Map<String, Object> entry = new LinkedHashMap<>(values);
    entry.put("step", step);
    logHistory.add(entry);
  }

  /** Prints a log dict as the Trainer does, through tqdm.write: the bar is cleared and redrawn. */
  private void printDict(Map<String, Double> values, List<String> order, boolean quoted) {
    String dict =
        order.stream()
            .map(
                key -> {
                  String value = python(values.get(key));
                  return "'" + key + "': " + (quoted ? "'" + value + "'" : value);
                })
            .collect(Collectors.joining(", ", "{", "}"));
    tqdmWrite(dict);
  }

  /** tqdm.write: clear the bar, write the line, draw the bar again (no newline after it). */
  private void tqdmWrite(String line) {
    if (bar.isEmpty()) {
      context.log().println(line);
      return;
    }
    context.log().write("\r" + " ".repeat(bar.length()) + "\r" + line + "\n\r" + bar);
  }

  private void say(String line) {
    context.log().println(line);
  }

  private void redrawBar() {
    bar = bar(step);
    context.log().write("\r" + bar);
  }

  /** A tqdm bar as printed to a file: {@code 45%|████▌ | 45/100 [00:04<00:05, 10.00it/s]}. */
  private String bar(int n) {
    double fraction = (double) n / total;
    int eighths = (int) (fraction * 10 * 8);
    int full = Math.min(10, eighths / 8);
    StringBuilder cells = new StringBuilder("█".repeat(full));
    if (full < 10) {
      cells.append(BLOCKS.charAt(eighths % 8)).append(" ".repeat(10 - full - 1));
    }
    String times;
    double elapsed = (System.nanoTime() - startedNanos) / 1e9;
    if (n == firstStep || elapsed <= 0) {
      times = clock(elapsed) + "<?, ?it/s";
    } else {
      double rate = (n - firstStep) / elapsed;
      times =
          clock(elapsed)
              + "<"
              + clock((total - n) / rate)
              + ", "
              + (rate >= 1
                  ? String.format(Locale.ROOT, "%5.2fit/s", rate)
                  : String.format(Locale.ROOT, "%5.2fs/it", 1 / rate));
    }
    return String.format(
        Locale.ROOT, "%3.0f%%|%s| %d/%d [%s]", fraction * 100, cells, n, total, times);
  }

  private static String clock(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
  }

  private void crash(String error, int code) {
    stop();
    say("Traceback (most recent call last):");
    say("  File \"/app/train.py\", line 87, in <module>");
    say("    main()");
    say(error);
    context.exit().exited(code, null);
  }

  private double epoch() {
    return epochAt(step);
  }

  private double epochAt(int n) {
    return round((double) n / total, 4);
  }

  /** A falling loss of the global step, with a little wobble. */
  static double loss(int globalStep) {
    return 0.35 + 2.2 * Math.exp(-globalStep / 80.0) * (1 + 0.05 * Math.sin(globalStep * 1.7));
  }

  private static double round(double value, int places) {
    return BigDecimal.valueOf(value)
        .setScale(places, java.math.RoundingMode.HALF_EVEN)
        .doubleValue();
  }

  /**
   * A double as Python's repr prints it: {@code 1e-05}, {@code 1.6000000000000003e-05}, {@code
   * 0.25}, {@code 1.0}.
   */
  static String python(double value) {
    if (value == 0) {
      return "0.0";
    }
    BigDecimal exact = new BigDecimal(Double.toString(value)).stripTrailingZeros();
    int exponent = exact.precision() - exact.scale() - 1;
    if (exponent < -4 || exponent >= 16) {
      String digits = exact.unscaledValue().abs().toString();
      String mantissa =
          digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return (value < 0 ? "-" : "")
          + mantissa
          + "e"
          + (exponent < 0 ? "-" : "+")
          + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    }
    String plain = exact.toPlainString();
    return plain.contains(".") ? plain : plain + ".0";
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
