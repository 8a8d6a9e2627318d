package dev.syllabus.workflows.recipe;

/**
 * What one workload of a phase (the trainer, a vLLM server, a rewards server) asks for. {@code
 * gpu}, {@code cpu} and {@code memory} are null when not set; the manifest's own value then stays.
 *
 * @param gpu whole GPUs ({@code nvidia.com/gpu}) per pod; request equals limit
 * @param cpu a Kubernetes quantity such as {@code 32} or {@code 500m}
 * @param memory a Kubernetes quantity such as {@code 1600Gi}
 * @param nodes how many nodes the workload spans, one pod each (1 when not set, and in payloads
 *     written before the field existed); more than 1 only for the trainer, as one torchrun or
 *     accelerate job with {@code gpu} processes per node
 */
public record WorkloadResources(Integer gpu, String cpu, String memory, Integer nodes) {

  public WorkloadResources {
    nodes = nodes == null ? 1 : nodes;
  }

  /** On one node. */
  public WorkloadResources(Integer gpu, String cpu, String memory) {
    this(gpu, cpu, memory, 1);
  }

  public static WorkloadResources gpus(int gpu) {
    return new WorkloadResources(gpu, null, null);
  }

  /** Whether the workload spans more than one node. */
  public boolean multiNode() {
    return nodes > 1;
  }
}
