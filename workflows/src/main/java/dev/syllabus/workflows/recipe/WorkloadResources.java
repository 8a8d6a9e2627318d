package dev.syllabus.workflows.recipe;

/**
 * What one workload of a phase (the trainer, a vLLM server, a rewards server) asks for. Each field
 * is null when not set; the manifest's own value then stays.
 *
 * @param gpu whole GPUs ({@code nvidia.com/gpu}); request equals limit
 * @param cpu a Kubernetes quantity such as {@code 32} or {@code 500m}
 * @param memory a Kubernetes quantity such as {@code 1600Gi}
 */
public record WorkloadResources(Integer gpu, String cpu, String memory) {

  public static WorkloadResources gpus(int gpu) {
    return new WorkloadResources(gpu, null, null);
  }
}
