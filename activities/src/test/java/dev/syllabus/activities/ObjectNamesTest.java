package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.recipe.Phase;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The names a phase's objects take for one attempt. */
class ObjectNamesTest {

  private static final JobRef JOB = JobRef.of("run-7", 1, "grpo", 3);
  private static final Phase PHASE =
      Phase.builder("grpo").until(1.0).framework("fw", "grpo").build();

  private static HasMetadata job(String name) {
    return new JobBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  private static HasMetadata service(String name) {
    return new ServiceBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  private static HasMetadata configMap(String name) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  @Test
  void theJobTakesTheAttemptsNameAndEveryOtherObjectItAsAPrefix() {
    ObjectNames names = ObjectNames.of(JOB, PHASE, List.of(job("trainer"), service("vllm")));
    assertEquals(JOB.name(), names.newName("Job", "trainer"));
    assertEquals(JOB.name() + "-vllm", names.newName("Service", "vllm"));
  }

  @Test
  void objectsOfDifferentKindsMayShareAName() {
    ObjectNames names = ObjectNames.of(JOB, PHASE, List.of(service("vllm"), configMap("vllm")));
    assertEquals(JOB.name() + "-vllm", names.newName("ConfigMap", "vllm"));
  }

  @Test
  void twoObjectsOfOneKindWithOneNameAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ObjectNames.of(JOB, PHASE, List.of(service("vllm"), service("vllm"))));
    assertEquals("fw/grpo has two objects named Service/vllm", e.getMessage());
  }

  @Test
  void eachServiceIsFoundThroughAVariableNamedAfterIt() {
    ObjectNames names =
        ObjectNames.of(JOB, PHASE, List.of(service("vllm"), service("rewards-server")));
    assertEquals(
        Map.of(
            "SYLLABUS_SERVICE_VLLM", JOB.name() + "-vllm",
            "SYLLABUS_SERVICE_REWARDS_SERVER", JOB.name() + "-rewards-server"),
        names.serviceEnv());
  }
}
