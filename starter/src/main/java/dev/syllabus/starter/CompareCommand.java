package dev.syllabus.starter;

import dev.syllabus.activities.record.RunRecord;
import dev.syllabus.activities.record.RunRecords;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "compare",
    description = {
      "Compare runs from their records: for each phase the steps trained, the final",
      "loss and held-out loss, the wall time and the GPU-hours, a total per run, and",
      "where the runs' recipes differ. Needs no Temporal: a run is its id (its record",
      "is $SYLLABUS_HOME/runs/<id>/record.json), its folder, or a record.json file.",
      "",
      "Examples:",
      "  syllabus compare x y",
      "  syllabus compare x y --html compare.html   # curves, table, recipe differences",
      "  syllabus compare ~/backup/x/record.json y --json",
      ""
    })
final class CompareCommand implements Callable<Integer> {
  @ParentCommand Syllabus parent;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** From this many records on, reading them is announced on standard error. */
  static final int MANY = 5;

  /** While reading takes longer than this, how far it got is shown this often. */
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);

  @Parameters(
      paramLabel = "RUN|RECORD",
      arity = "1..*",
      description = "a run id, a run folder, or a record.json file")
  List<String> runs = new ArrayList<>();

  @Option(names = "--json", description = "print the table as one JSON object (for scripts)")
  boolean json;

  @Option(
      names = "--html",
      paramLabel = "FILE",
      description =
          "also write one HTML page (opens with no network): loss and held-out loss over global"
              + " step for every run with the phases drawn, the table, the recipe differences")
  Path html;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<RunRecord> records = new ArrayList<>();
    List<String> files = new ArrayList<>();
    readAll(records, files, err);
    Comparison comparison = Comparison.of(records, files);

    if (html != null) {
      write(html, CompareReport.html(comparison, records, Instant.now()));
    }
    out.print(json ? comparison.json() + "\n" : comparison.table());
    if (html != null) {
      (json ? err : out).println("wrote " + html);
    }
    return Exit.OK;
  }

  /** Reads every named run's record, saying how far it got when there are many. */
  private void readAll(List<RunRecord> records, List<String> files, PrintWriter err) {
    if (runs.size() >= MANY) {
      err.println("reading " + runs.size() + " records…");
      err.flush();
    }
    Map<String, String> seen = new HashMap<>();
    long lastShown = System.nanoTime();
    for (String given : runs) {
      Path file = recordOf(given);
      RunRecord record;
      try {
        record = RunRecords.read(file);
      } catch (RunRecords.NotARecord e) {
        throw new Exit.BadInput(e.getMessage());
      }
      String before = seen.put(record.runId(), given);
      if (before != null) {
        throw new Exit.BadInput(
            "run '" + record.runId() + "' is named twice (" + before + " and " + given + ")");
      }
      records.add(record);
      files.add(file.toString());
      if (System.nanoTime() - lastShown > PROGRESS_EVERY.toNanos()
          && records.size() < runs.size()) {
        err.println("read " + records.size() + " of " + runs.size() + " records…");
        err.flush();
        lastShown = System.nanoTime();
      }
    }
  }

  /**
   * The record a name stands for: a file or folder that exists as given, else the record of the run
   * with that id in the store.
   */
  private Path recordOf(String given) {
    Path path = Path.of(given);
    if (Files.isDirectory(path)) {
      return path.resolve(RunRecord.FILE_NAME);
    }
    if (Files.exists(path)) {
      return path;
    }
    Path store = parent.paths.runs();
    boolean looksLikeAnId = !given.isEmpty() && !given.contains("/") && !given.contains("\\");
    if (!looksLikeAnId) {
      throw new Exit.BadInput(given + ": no such file or folder");
    }
    Path file = RunRecords.fileOf(store, given);
    if (Files.isDirectory(store.resolve(given)) && !Files.exists(file)) {
      throw new Exit.BadInput(
          "run '"
              + given
              + "' has no record: "
              + file
              + " does not exist (runs started before Syllabus wrote records have none)");
    }
    if (!Files.exists(file)) {
      throw new Exit.BadInput(
          "no run '" + given + "' in " + store + " (give a run id, a run folder or a record.json)");
    }
    return file;
  }

  /** Writes the page whole or not at all: a reader never sees half of it. */
  private static void write(Path target, String page) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path folder = absolute.getParent();
    if (Files.isDirectory(absolute)) {
      throw new Exit.BadInput("--html " + target + ": is a folder; name the page's file");
    }
    if (folder == null || !Files.isDirectory(folder)) {
      throw new Exit.BadInput("--html " + target + ": no folder " + folder);
    }
    // Beside the page, so that the move is a rename; created as any file is (not owner-only).
    Path temporary =
        folder.resolve("." + absolute.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    try {
      Files.writeString(temporary, page, StandardCharsets.UTF_8);
      Files.move(
          temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
