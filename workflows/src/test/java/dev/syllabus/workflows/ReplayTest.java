package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.WorkflowReplayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
}
