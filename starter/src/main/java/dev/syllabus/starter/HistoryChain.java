package dev.syllabus.starter;

import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the histories of one workflow id look like across its continue-as-new chain: how many runs,
 * the largest history in events and bytes, how big the input carried into the first and the last
 * run was (a carried state that grows with time would show here), and the activities completed in
 * all of them by type.
 */
record HistoryChain(
    int runs,
    long maxEvents,
    long maxBytes,
    long firstInputBytes,
    long lastInputBytes,
    Map<String, Integer> completedActivities) {

  static HistoryChain of(WorkflowClient client, String workflowId) {
    int runs = 0;
    long maxEvents = 0;
    long maxBytes = 0;
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
      maxBytes =
          Math.max(maxBytes, events.stream().mapToLong(HistoryEvent::getSerializedSize).sum());
      Map<Long, String> types = new java.util.HashMap<>();
      for (HistoryEvent e : events) {
        if (e.hasActivityTaskScheduledEventAttributes()) {
          types.put(
              e.getEventId(),
              e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
        } else if (e.hasActivityTaskCompletedEventAttributes()) {
          completed.merge(
              types.get(e.getActivityTaskCompletedEventAttributes().getScheduledEventId()),
              1,
              Integer::sum);
        }
      }
      HistoryEvent started = events.get(0);
      // Walking back from the newest run: the first one seen is the last, the last seen the first.
      if (runs == 1) {
        lastInput = started.getSerializedSize();
      }
      firstInput = started.getSerializedSize();
      runId = started.getWorkflowExecutionStartedEventAttributes().getContinuedExecutionRunId();
    } while (!runId.isEmpty());
    return new HistoryChain(runs, maxEvents, maxBytes, firstInput, lastInput, completed);
  }

  int continuedAsNew() {
    return runs - 1;
  }

  int completed(String activityType) {
    return completedActivities.getOrDefault(activityType, 0);
  }
}
