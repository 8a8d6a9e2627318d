package dev.syllabus.bench;

import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the histories of one workflow id look like across its continue-as-new chain: how many runs,
 * the largest history in events and bytes and where its bytes are (by event type), how big the
 * input carried into the first and the last run was (a carried state that grows with time would
 * show here), and the activities completed in all of them by type.
 */
record HistoryChain(
    int runs,
    long maxEvents,
    long maxBytes,
    Map<String, Long> maxBytesByType,
    long firstInputBytes,
    long lastInputBytes,
    Map<String, Integer> completedActivities) {

  static HistoryChain of(WorkflowClient client, String workflowId) {
    int runs = 0;
    long maxEvents = 0;
    long maxBytes = 0;
    Map<String, Long> maxByType = Map.of();
    long firstInput = 0;
    long lastInput = 0;
    Map<String, Integer> completed = new TreeMap<>();
    String runId = "";
    do {
      List<HistoryEvent> events =
          (runId.isEmpty()
                  ? client.fetchHistory(workflowId)
                  : client.fetchHistory(workflowId, runId))
              .getEvents();
      runs++;
      maxEvents = Math.max(maxEvents, events.size());
      long bytes = events.stream().mapToLong(HistoryEvent::getSerializedSize).sum();
      if (bytes > maxBytes) {
        maxBytes = bytes;
        maxByType = bytesByType(events);
      }
      forEachCompletedActivity(
          events, (type, scheduled, done) -> completed.merge(type, 1, Integer::sum));
      HistoryEvent started = events.get(0);
      // Walking back from the newest run: the first one seen is the last, the last seen the first.
      if (runs == 1) {
        lastInput = started.getSerializedSize();
      }
      firstInput = started.getSerializedSize();
      runId = started.getWorkflowExecutionStartedEventAttributes().getContinuedExecutionRunId();
    } while (!runId.isEmpty());
    return new HistoryChain(runs, maxEvents, maxBytes, maxByType, firstInput, lastInput, completed);
  }

  /** What {@link #forEachCompletedActivity} hands on for each activity that completed. */
  interface CompletedActivity {
    void accept(String type, HistoryEvent scheduled, HistoryEvent completed);
  }

  /**
   * Each completed activity in {@code events}: its type, when it was scheduled, when it completed.
   */
  static void forEachCompletedActivity(List<HistoryEvent> events, CompletedActivity action) {
    Map<Long, HistoryEvent> scheduled = new java.util.HashMap<>();
    for (HistoryEvent e : events) {
      if (e.hasActivityTaskScheduledEventAttributes()) {
        scheduled.put(e.getEventId(), e);
      } else if (e.hasActivityTaskCompletedEventAttributes()) {
        HistoryEvent s =
            scheduled.get(e.getActivityTaskCompletedEventAttributes().getScheduledEventId());
        action.accept(
            s.getActivityTaskScheduledEventAttributes().getActivityType().getName(), s, e);
      }
    }
  }

  /** The bytes of each event type, largest first, e.g. {@code WORKFLOW_TASK_COMPLETED=…}. */
  private static Map<String, Long> bytesByType(List<HistoryEvent> events) {
    Map<String, Long> bytes = new TreeMap<>();
    for (HistoryEvent e : events) {
      bytes.merge(
          e.getEventType().name().replaceFirst("^EVENT_TYPE_", ""),
          (long) e.getSerializedSize(),
          Long::sum);
    }
    Map<String, Long> sorted = new java.util.LinkedHashMap<>();
    bytes.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }

  /** The largest history's three biggest event types and their share of its bytes. */
  String largestParts() {
    StringBuilder out = new StringBuilder();
    maxBytesByType.entrySet().stream()
        .limit(3)
        .forEach(
            e ->
                out.append(out.length() == 0 ? "" : ", ")
                    .append(e.getKey().toLowerCase(java.util.Locale.ROOT))
                    .append(
                        String.format(
                            java.util.Locale.ROOT, " %.0f%%", 100.0 * e.getValue() / maxBytes)));
    return out.toString();
  }

  int continuedAsNew() {
    return runs - 1;
  }

  int completed(String activityType) {
    return completedActivities.getOrDefault(activityType, 0);
  }
}
