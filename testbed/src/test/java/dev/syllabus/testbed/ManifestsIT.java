package dev.syllabus.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.FrameworkCatalog;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every workload of every framework that ships with Syllabus, rendered as a run renders it, is
 * accepted by the API server: a server-side dry run of each object, with the API server's own
 * validation, defaulting and admission (Kueue's webhooks among them) and the worker's rights.
 */
class ManifestsIT {
  @TempDir Path artifacts;
  private Backend syllabus;

  @AfterEach
  void tearDown() {
    if (syllabus != null) {
      syllabus.close();
    }
  }

  @Test
  void everyShippedWorkloadPassesTheApiServersDryRun() {
    syllabus = new Backend("manifests", artifacts);
    Kubeconfigs kubeconfigs = new Kubeconfigs(Backend.KUBECONFIGS);
    Renderer renderer = new Renderer(kubeconfigs);
    List<String> refused = new ArrayList<>();
    int objects = 0;
    var worker = syllabus.testbed.workerClient(syllabus.ns);
    for (FrameworkCatalog.Framework framework : kubeconfigs.catalog().frameworks().values()) {
      for (Map.Entry<String, ?> workload : framework.workloads().entrySet()) {
        for (boolean queued : List.of(false, true)) {
          Phase.Builder phase =
              Phase.builder("p").until(1.0).framework(framework.name(), workload.getKey());
          if (queued) {
            phase.queue("team-a");
          }
          PhaseTask task =
              new PhaseTask(
                  "dry",
                  "manifests",
                  0,
                  phase.build(),
                  new StepRange(0, 100),
                  100,
                  Triplet.EMPTY,
                  null,
                  1000,
                  0,
                  null);
          RenderedPhase rendered = renderer.render(task, 1);
          for (Manifest m : rendered.manifests()) {
            HasMetadata object = (HasMetadata) Kubeconfigs.SERIALIZATION.unmarshal(m.yaml());
            objects++;
            try {
              worker.resource(object).inNamespace(syllabus.ns).dryRun().create();
            } catch (KubernetesClientException e) {
              refused.add(
                  framework.name()
                      + "/"
                      + workload.getKey()
                      + (queued ? " (queued)" : "")
                      + " "
                      + m.kind()
                      + " "
                      + m.name()
                      + ": "
                      + e.getMessage());
            }
          }
        }
      }
    }
    worker.close();
    assertFalse(objects < 10, "rendered " + objects + " objects");
    assertEquals(List.of(), refused);
  }
}
