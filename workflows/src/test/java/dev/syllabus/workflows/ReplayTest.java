package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.api.common.v1.Payloads;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.WorkflowReplayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays histories recorded from real runs of the demo (plain, and with pause, resume, advance and
 * skip) against today's workflow code. A change that would make an old run non-deterministic fails
 * here; such a change needs {@code Workflow.getVersion}. The histories are recorded by the
 * starter's {@code RecordHistoriesTest}.
 */
class ReplayTest {
  private static final Path HISTORIES = Path.of("src", "test", "resources", "histories");

  @TestFactory
  Stream<DynamicTest> everyRecordedHistoryReplays() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(HISTORIES)) {
      files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertTrue(files.size() >= 8, "recorded histories: " + files);
    return files.stream()
        .map(
            file ->
                DynamicTest.dynamicTest(
                    file.getFileName().toString(),
                    () ->
                        WorkflowReplayer.replayWorkflowExecution(
                            history(file), CurriculumWorkflowImpl.class, PhaseWorkflowImpl.class)));
  }

  /** The history in {@code <workflow id>.json}: child ids derive from it, so replay needs it. */
  private static WorkflowExecutionHistory history(Path file) throws Exception {
    String workflowId = file.getFileName().toString().replaceAll("\\.json$", "");
    return WorkflowExecutionHistory.fromJson(Files.readString(file), workflowId);
  }

  /**
   * The histories cover both sides of each version the phase workflow checks on every phase: runs
   * recorded before a version existed replay without its marker (the old path), newer ones with it.
   */
  @TestFactory
  Stream<DynamicTest> theRecordedPhasesCoverBothSidesOfEachVersion() throws Exception {
    List<Path> phases;
    try (Stream<Path> s = Files.list(HISTORIES)) {
      phases = s.filter(p -> p.toString().matches(".*\\.\\d+-\\w+\\.json")).sorted().toList();
    }
    return Stream.of("phase-search-attributes", "reports-in-background", "fewer-round-trips")
        .map(
            changeId ->
                DynamicTest.dynamicTest(
                    changeId,
                    () -> {
                      List<String> with = new ArrayList<>();
                      List<String> without = new ArrayList<>();
                      for (Path file : phases) {
                        boolean marked = changeIds(history(file)).contains(changeId);
                        (marked ? with : without).add(file.getFileName().toString());
                      }
                      assertFalse(with.isEmpty(), "no recorded phase took the new path");
                      assertFalse(without.isEmpty(), "no recorded phase took the old path");
                    }));
  }

  private static List<String> changeIds(WorkflowExecutionHistory history) {
    List<String> ids = new ArrayList<>();
    for (HistoryEvent event : history.getEvents()) {
      if (event.hasMarkerRecordedEventAttributes()
          && event.getMarkerRecordedEventAttributes().getMarkerName().equals("Version")) {
        Payloads id = event.getMarkerRecordedEventAttributes().getDetailsMap().get("changeId");
        ids.add(
            DefaultDataConverter.STANDARD_INSTANCE.fromPayloads(
                0, Optional.of(id), String.class, String.class));
      }
    }
    return ids;
  }
}
