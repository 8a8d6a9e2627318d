package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays recorded histories against today's workflow code. The {@code baseline-*} histories were
 * recorded before the first release, with the workflow code as it was released; they are the
 * compatibility promise: every later change to workflow code must keep them replaying, which means
 * a change that alters what the workflows do goes behind {@code Workflow.getVersion}, is listed in
 * {@link #VERSIONS} and has a history recorded on its new side (see docs/development.md). The
 * histories come from the starter's {@code RecordHistoriesTest} (the demo on the local backend,
 * plain and with every signal) and the testbed's {@code RecordHistoriesIT} (a phase with servers,
 * paused and resumed).
 */
class ReplayTest {
  private static final Path HISTORIES = Path.of("src", "test", "resources", "histories");

  /**
   * The change ids of {@code Workflow.getVersion} calls added since the baseline. Each must be seen
   * on both sides in the recorded phases: the baseline takes the old path, a history recorded after
   * the change the new one.
   */
  private static final List<String> VERSIONS = List.of(PhaseWorkflowImpl.CONTROLS_ANSWERED);

  /** The same for the run's workflow: each must be seen on both sides in the recorded runs. */
  private static final List<String> RUN_VERSIONS = List.of(RunRecorder.RUN_RECORD);

  /** What the phase workflow asks of a backend; the baseline must exercise every one. */
  private static final Set<String> PHASE_ACTIVITIES =
      Set.of(
          "Launch",
          "SubmitServers",
          "AwaitServers",
          "StartJob",
          "FollowJob",
          "StopJob",
          "ResumeServers",
          "ResumeJob",
          "Collect",
          "Teardown");

  /** The signals a person sends a run, which the baseline must also have seen. */
  private static final Set<String> SIGNALS = Set.of("pause", "resume", "advance", "skip");

  @TestFactory
  Stream<DynamicTest> everyRecordedHistoryReplays() throws Exception {
    List<Path> files = histories();
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

  @Test
  void theBaselineTakesEveryStepOfAPhaseAndHearsEverySignal() throws Exception {
    Set<String> activities = new TreeSet<>();
    Set<String> signals = new TreeSet<>();
    for (Path file : histories()) {
      if (!file.getFileName().toString().startsWith("baseline-")) {
        continue;
      }
      for (HistoryEvent event : history(file).getEvents()) {
        if (event.hasActivityTaskScheduledEventAttributes()) {
          activities.add(
              event.getActivityTaskScheduledEventAttributes().getActivityType().getName());
        }
        if (event.hasWorkflowExecutionSignaledEventAttributes()) {
          signals.add(event.getWorkflowExecutionSignaledEventAttributes().getSignalName());
        }
      }
    }
    assertEquals(new TreeSet<>(PHASE_ACTIVITIES), activities);
    assertTrue(signals.containsAll(SIGNALS), "signals in the baseline: " + signals);
  }

  @Test
  void theBaselineHasNoVersionMarkers() throws Exception {
    for (Path file : histories()) {
      if (file.getFileName().toString().startsWith("baseline-")) {
        assertEquals(List.of(), changeIds(history(file)), file.toString());
      }
    }
  }

  @TestFactory
  Stream<DynamicTest> theRecordedPhasesCoverBothSidesOfEachVersion() throws Exception {
    List<Path> phases = histories().stream().filter(ReplayTest::isPhase).toList();
    return bothSides(VERSIONS, phases);
  }

  @TestFactory
  Stream<DynamicTest> theRecordedRunsCoverBothSidesOfEachVersion() throws Exception {
    List<Path> runs = histories().stream().filter(p -> !isPhase(p)).toList();
    return bothSides(RUN_VERSIONS, runs);
  }

  private static boolean isPhase(Path history) {
    return history.toString().matches(".*\\.\\d+-\\w+\\.json");
  }

  /** A test per change id: some of {@code recorded} took its new path, and some its old one. */
  private static Stream<DynamicTest> bothSides(List<String> changeIds, List<Path> recorded) {
    return changeIds.stream()
        .map(
            changeId ->
                DynamicTest.dynamicTest(
                    changeId,
                    () -> {
                      List<String> with = new ArrayList<>();
                      List<String> without = new ArrayList<>();
                      for (Path file : recorded) {
                        boolean marked = changeIds(history(file)).contains(changeId);
                        (marked ? with : without).add(file.getFileName().toString());
                      }
                      assertFalse(with.isEmpty(), "no recorded history took the new path");
                      assertFalse(without.isEmpty(), "no recorded history took the old path");
                    }));
  }

  private static List<Path> histories() throws Exception {
    try (Stream<Path> s = Files.list(HISTORIES)) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** The history in {@code <workflow id>.json}: child ids derive from it, so replay needs it. */
  private static WorkflowExecutionHistory history(Path file) throws Exception {
    String workflowId = file.getFileName().toString().replaceAll("\\.json$", "");
    return WorkflowExecutionHistory.fromJson(Files.readString(file), workflowId);
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
