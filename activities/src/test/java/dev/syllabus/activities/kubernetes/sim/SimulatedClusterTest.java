package dev.syllabus.activities.kubernetes.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class SimulatedClusterTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  @TempDir Path artifacts;

  @Test
  void aJobRunsToComplete() {
    try (SimulatedCluster cluster = SimulatedCluster.start("ml", artifacts)) {
      KubernetesClient client = cluster.client();
      client.batch().v1().jobs().resource(trainingJob("train", 0, 30)).create();
      cluster.await(
          () ->
              JobController.isTrue(
                  client.batch().v1().jobs().withName("train").get().getStatus(), "Complete"),
          WAIT);
      Job job = client.batch().v1().jobs().withName("train").get();
      System.out.println(io.fabric8.kubernetes.client.utils.Serialization.asYaml(job));
      assertEquals(1, job.getStatus().getSucceeded());
      assertTrue(
          Files.isRegularFile(artifacts.resolve("run/0-sft/checkpoint-30/trainer_state.json")));
      System.out.println(cluster.requests());
    }
  }

  static Job trainingJob(String name, int start, int end) {
    return new JobBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(0)
        .withNewTemplate()
        .withNewSpec()
        .withRestartPolicy("Never")
        .addNewContainer()
        .withName("trainer")
        .withImage("ghcr.io/example/trainer:1")
        .addNewEnv()
        .withName("SYLLABUS_STEP_START")
        .withValue(String.valueOf(start))
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_STEP_END")
        .withValue(String.valueOf(end))
        .endEnv()
        .addNewEnv()
        .withName("SYLLABUS_OUTPUT_DIR")
        .withValue("/mnt/syllabus/run/0-sft")
        .endEnv()
        .addNewVolumeMount()
        .withName("syllabus-artifacts")
        .withMountPath("/mnt/syllabus")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("syllabus-artifacts")
        .withNewPersistentVolumeClaim()
        .withClaimName("syllabus-artifacts")
        .endPersistentVolumeClaim()
        .endVolume()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }
}
