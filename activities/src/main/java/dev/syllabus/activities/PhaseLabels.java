package dev.syllabus.activities;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The labels every object of a phase's attempt carries, so that it can be found and cleaned up, and
 * the selectors that make its Deployments, StatefulSets and Services pick only that attempt's pods.
 */
public final class PhaseLabels {

  private PhaseLabels() {}

  /** The labels every object of the phase carries, so it can be found and cleaned up. */
  static Map<String, String> of(PhaseTask task, int attempt) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Renderer.MANAGED_BY, "syllabus");
    labels.put(Renderer.RUN_LABEL, task.runId());
    labels.put(Renderer.PHASE_LABEL, task.phase().name());
    labels.putAll(attempt(JobRef.of(task.runId(), task.index(), task.phase().name(), attempt)));
    return labels;
  }

  /**
   * The labels that single out one attempt of one phase among everything Syllabus made: what the
   * backend looks its objects up by, and what an object must carry to be adopted.
   */
  public static Map<String, String> attempt(JobRef job) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Renderer.MANAGED_BY, "syllabus");
    labels.put(Renderer.RUN_LABEL, job.runId());
    labels.put(Renderer.PHASE_INDEX_LABEL, Integer.toString(job.phaseIndex()));
    labels.put(Renderer.ATTEMPT_LABEL, Integer.toString(job.attempt()));
    return labels;
  }

  /**
   * Deployments, StatefulSets and Services select only this attempt's pods: the run, phase index
   * and attempt of {@code labels} are added to their selectors. A Service without a selector keeps
   * none.
   */
  static void selectAttempt(HasMetadata object, Map<String, String> labels) {
    Map<String, String> selected = selectorLabels(labels);
    if (object instanceof Deployment d
        && d.getSpec() != null
        && d.getSpec().getSelector() != null) {
      LabelSelector selector = d.getSpec().getSelector();
      selector.setMatchLabels(merged(selector.getMatchLabels(), selected));
    } else if (object instanceof StatefulSet set
        && set.getSpec() != null
        && set.getSpec().getSelector() != null) {
      LabelSelector selector = set.getSpec().getSelector();
      selector.setMatchLabels(merged(selector.getMatchLabels(), selected));
    } else if (object instanceof Service service
        && service.getSpec() != null
        && service.getSpec().getSelector() != null
        && !service.getSpec().getSelector().isEmpty()) {
      service.getSpec().setSelector(merged(service.getSpec().getSelector(), selected));
    }
  }

  /** The labels that single out one attempt of one phase: added to the manifests' selectors. */
  private static Map<String, String> selectorLabels(Map<String, String> labels) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String key :
        List.of(Renderer.RUN_LABEL, Renderer.PHASE_INDEX_LABEL, Renderer.ATTEMPT_LABEL)) {
      out.put(key, labels.get(key));
    }
    return out;
  }

  /** The manifest's own labels (or none) with {@code added} on top: ours win on a clash. */
  static Map<String, String> merged(Map<String, String> current, Map<String, String> added) {
    Map<String, String> out = new LinkedHashMap<>();
    if (current != null) {
      out.putAll(current);
    }
    out.putAll(added);
    return out;
  }
}
