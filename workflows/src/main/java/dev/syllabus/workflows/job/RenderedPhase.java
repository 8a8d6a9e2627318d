package dev.syllabus.workflows.job;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * A phase's objects, rendered from the framework's manifests with the run's values injected.
 *
 * @param job the job these objects belong to
 * @param manifests every object, in the order they are applied
 */
public record RenderedPhase(JobRef job, List<Manifest> manifests) {

  public RenderedPhase {
    manifests = List.copyOf(manifests);
  }

  /** Whether the phase runs servers (Deployments, Services) that must be ready before its Job. */
  @JsonIgnore
  public boolean hasServers() {
    return manifests.stream()
        .anyMatch(
            m ->
                m.kind().equals("Deployment")
                    || m.kind().equals("StatefulSet")
                    || m.kind().equals("Service"));
  }

  /** All objects as one multi-document YAML stream. */
  public String toYaml() {
    StringBuilder out = new StringBuilder();
    for (Manifest m : manifests) {
      out.append("---\n").append(m.yaml());
      if (!m.yaml().endsWith("\n")) {
        out.append('\n');
      }
    }
    return out.toString();
  }
}
