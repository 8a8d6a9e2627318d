package dev.syllabus.workflows.recipe;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One phase of a curriculum: a framework's workload run over a range of training time.
 *
 * @param name a Kubernetes-style name, unique within the recipe
 * @param until the normalized time at which the phase ends, in (0, 1]; or null when {@code steps}
 *     is given
 * @param steps how many steps the phase runs; or null when {@code until} is given
 * @param framework a folder under {@code kubeconfigs/}
 * @param workload a folder under {@code kubeconfigs/<framework>/}
 * @param image the image of the workload's containers, or null to keep the manifests' own
 * @param pullLatest whether jobs get {@code PULL_LATEST=1} in their environment
 * @param resources per workload role (e.g. {@code train}, {@code vllm}): what it asks for
 * @param data what the phase trains on, or null to inherit the previous phase's data
 * @param optimizer the optimizer and whether its state is carried over
 * @param config the framework's own configuration keys, passed through untouched
 * @param retries how many times a failed job is started again before the phase fails
 * @param deadlines how long the phase may wait for its servers and for cluster capacity
 * @param queue the Kueue LocalQueue its Job is submitted to, or null when Kueue is not used
 * @param priority the Kueue WorkloadPriorityClass of its Job (who preempts whom in the queue), or
 *     null for the queue's default
 */
public record Phase(
    String name,
    Double until,
    Long steps,
    String framework,
    String workload,
    String image,
    boolean pullLatest,
    Map<String, WorkloadResources> resources,
    DataSpec data,
    OptimizerSpec optimizer,
    Map<String, Object> config,
    int retries,
    Deadlines deadlines,
    String queue,
    String priority) {

  /** How many times a failed job is started again when the recipe does not say. */
  public static final int DEFAULT_RETRIES = 2;

  public Phase {
    Objects.requireNonNull(name, "name");
    resources = resources == null ? Map.of() : Map.copyOf(resources);
    optimizer = optimizer == null ? OptimizerSpec.DEFAULT : optimizer;
    config =
        config == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config));
    deadlines = deadlines == null ? Deadlines.DEFAULTS : deadlines;
  }

  /** {@code framework/workload}, the folder under {@code kubeconfigs/}. */
  public String frameworkWorkload() {
    return framework + "/" + workload;
  }

  /**
   * The GPUs the phase asks for, over all its workloads (the trainer on every node, its servers).
   */
  public int gpus() {
    int sum = 0;
    for (WorkloadResources asked : resources.values()) {
      if (asked.gpu() != null) {
        sum += asked.gpu() * asked.nodes(); // GPUs are per node
      }
    }
    return sum;
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Code-first construction of a phase. */
  public static final class Builder {
    private final String name;
    private Double until;
    private Long steps;
    private String framework;
    private String workload;
    private String image;
    private boolean pullLatest;
    private final Map<String, WorkloadResources> resources = new LinkedHashMap<>();
    private DataSpec data;
    private OptimizerSpec optimizer = OptimizerSpec.DEFAULT;
    private final Map<String, Object> config = new LinkedHashMap<>();
    private int retries = DEFAULT_RETRIES;
    private Deadlines deadlines = Deadlines.DEFAULTS;
    private String queue;
    private String priority;

    private Builder(String name) {
      this.name = name;
    }

    public Builder until(double until) {
      this.until = until;
      return this;
    }

    public Builder steps(long steps) {
      this.steps = steps;
      return this;
    }

    public Builder framework(String framework, String workload) {
      this.framework = framework;
      this.workload = workload;
      return this;
    }

    public Builder image(String image) {
      this.image = image;
      return this;
    }

    public Builder pullLatest(boolean pullLatest) {
      this.pullLatest = pullLatest;
      return this;
    }

    public Builder resources(String role, WorkloadResources resources) {
      this.resources.put(role, resources);
      return this;
    }

    public Builder data(DataSpec data) {
      this.data = data;
      return this;
    }

    public Builder optimizer(OptimizerSpec optimizer) {
      this.optimizer = optimizer;
      return this;
    }

    public Builder config(String key, Object value) {
      this.config.put(key, value);
      return this;
    }

    public Builder retries(int retries) {
      this.retries = retries;
      return this;
    }

    public Builder deadlines(Deadlines deadlines) {
      this.deadlines = deadlines;
      return this;
    }

    public Builder queue(String queue) {
      this.queue = queue;
      return this;
    }

    public Builder priority(String priority) {
      this.priority = priority;
      return this;
    }

    public Phase build() {
      return new Phase(
          name,
          until,
          steps,
          framework,
          workload,
          image,
          pullLatest,
          resources,
          data,
          optimizer,
          config,
          retries,
          deadlines,
          queue,
          priority);
    }
  }
}
