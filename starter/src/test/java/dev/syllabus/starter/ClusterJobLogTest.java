package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.syllabus.activities.PhaseLabels;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.JobRef;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which pods {@code syllabus logs} reads of a trainer on several nodes, on the mock API server. */
@EnableKubernetesMockClient(crud = true, https = false)
class ClusterJobLogTest {
  private static final JobRef JOB = JobRef.of("r", 0, "sft", 1);

  KubernetesClient client;

  private void rankPod(Integer rank, String created) {
    PodBuilder pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(JOB.name() + (rank == null ? "" : "-" + rank) + "-abcde")
            .withNamespace("ml")
            .withCreationTimestamp(created)
            .withLabels(PhaseLabels.attempt(JOB))
            .addNewOwnerReference()
            .withKind("Job")
            .withName(JOB.name())
            .withApiVersion("batch/v1")
            .withUid("job-uid")
            .endOwnerReference()
            .endMetadata();
    if (rank != null) {
      pod.editMetadata()
          .addToAnnotations("batch.kubernetes.io/job-completion-index", rank.toString())
          .endMetadata();
    }
    client.pods().inNamespace("ml").resource(pod.build()).create();
  }

  private List<String> read(int rank) {
    return new ClusterJobLog(client, "ml", JOB, Renderer.TRAIN_ROLE, rank)
        .pods().stream().map(p -> p.getMetadata().getName()).toList();
  }

  @Test
  void theLogsOfATrainerOnSeveralNodesAreRankZerosUnlessAnotherRankIsAsked() {
    for (int rank = 0; rank < 4; rank++) {
      rankPod(rank, "2026-12-07T06:00:0" + rank + "Z");
    }
    assertEquals(List.of("r-0-sft-1-0-abcde"), read(0));
    assertEquals(List.of("r-0-sft-1-2-abcde"), read(2));
  }

  @Test
  void theTrainerOnOneNodeIsRankZero() {
    rankPod(null, "2026-12-07T06:00:00Z");
    assertEquals(List.of("r-0-sft-1-abcde"), read(0));
    assertEquals(List.of(), read(1));
  }
}
