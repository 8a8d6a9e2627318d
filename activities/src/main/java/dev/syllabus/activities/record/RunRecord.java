package dev.syllabus.activities.record;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.syllabus.workflows.RetryOf;
import dev.syllabus.workflows.job.Triplet;
import java.util.List;
import java.util.Map;

/**
 * What a run leaves behind for people and tools once its Temporal history is gone: {@code
 * <store>/<runId>/record.json}, written by the worker as the run goes (when it starts, when each
 * phase starts and ends, when it ends). The schema is documented in docs/run-records.md; {@link
 * #SCHEMA} names its version, and a reader refuses a file without it.
 *
 * @param schema always {@link #SCHEMA}
 * @param runId the run id (the workflow id)
 * @param recipe the recipe's name
 * @param resolvedRecipe the recipe as the run has it: every default filled in, every {@code --set}
 *     applied
 * @param syllabusVersion the version of the worker that last wrote the record
 * @param backend {@code local} or {@code kubernetes}
 * @param retryOf the run this one retries, or null
 * @param state the run's state (RUNNING, PAUSED, COMPLETED, FAILED, CANCELED)
 * @param message why the run is in this state, when there is something to say
 * @param startedAt when the run started (ISO-8601, UTC)
 * @param endedAt when it ended, or null while it runs
 * @param updatedAt when the record was last written (workflow time)
 * @param step the global step the run reached
 * @param totalSteps the recipe's total steps
 * @param phases every phase of the recipe, in order
 * @param lineage the run's {@code lineage.json} entries: every artifact handed on and what it was
 *     made from
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunRecord(
    String schema,
    String runId,
    String recipe,
    JsonNode resolvedRecipe,
    String syllabusVersion,
    String backend,
    RetryOf retryOf,
    String state,
    String message,
    String startedAt,
    String endedAt,
    String updatedAt,
    long step,
    long totalSteps,
    List<PhaseRecord> phases,
    List<JsonNode> lineage) {

  /** The schema this code writes and reads. */
  public static final String SCHEMA = "syllabus.run-record/v1";

  /** The file name of a run's record in its folder of the artifact store. */
  public static final String FILE_NAME = "record.json";

  public RunRecord {
    phases = phases == null ? List.of() : List.copyOf(phases);
    lineage = lineage == null ? List.of() : List.copyOf(lineage);
  }

  /**
   * One phase of the run.
   *
   * @param index its position in the recipe, from 0
   * @param name its name
   * @param framework its framework folder
   * @param workload its workload folder
   * @param state where it stands (PENDING, RUNNING, COMPLETED, ADVANCED, SKIPPED, FAILED, …);
   *     REUSED for a phase a retry took over from the run it retries
   * @param stepStart the first global step it owns
   * @param stepEnd one past its last global step
   * @param step the global step it reached
   * @param attempts how many attempts of its job ran
   * @param startedAt when it started (ISO-8601), or null before
   * @param endedAt when it ended, or null before
   * @param runningSeconds seconds its job ran, or null when not known
   * @param queuedSeconds seconds its job waited for cluster capacity, or null when not known
   * @param pausedSeconds seconds it was paused, or null when not known
   * @param handoffSeconds seconds from the previous phase's job ending to this phase's job
   *     starting, or null (the first phase, or not known)
   * @param gpus the GPUs it asks for, over all its workloads
   * @param gpuHours {@code gpus × runningSeconds / 3600}, or null when not known
   * @param images the container image of each workload, e.g. {@code {"trainer": "…"}}
   * @param loss its latest training loss, or null
   * @param evalLoss its latest held-out loss, or null
   * @param output the triplet it handed on, or null until it ended
   * @param message why it is in this state, when there is something to say
   * @param series its loss, held-out loss and learning rate over global step, downsampled
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record PhaseRecord(
      int index,
      String name,
      String framework,
      String workload,
      String state,
      long stepStart,
      long stepEnd,
      long step,
      int attempts,
      String startedAt,
      String endedAt,
      Double runningSeconds,
      Double queuedSeconds,
      Double pausedSeconds,
      Double handoffSeconds,
      int gpus,
      Double gpuHours,
      Map<String, String> images,
      Double loss,
      Double evalLoss,
      Triplet output,
      String message,
      Series series) {

    /** This phase as a retry takes it over: REUSED, handing on {@code handedOn}. */
    public PhaseRecord reused(Triplet handedOn, String why) {
      return new PhaseRecord(
          index,
          name,
          framework,
          workload,
          "REUSED",
          stepStart,
          stepEnd,
          step,
          attempts,
          startedAt,
          endedAt,
          runningSeconds,
          queuedSeconds,
          pausedSeconds,
          handoffSeconds,
          gpus,
          gpuHours,
          images,
          loss,
          evalLoss,
          handedOn,
          why,
          series);
    }
  }

  /**
   * Metric series over global step, from the {@code log_history} of the phase's latest complete
   * checkpoint ({@code trainer_state.json}), downsampled to at most {@link #MAX_POINTS} points of
   * training and as many of held-out loss, the first and last always kept.
   *
   * @param logged how many entries the trainer logged (before downsampling)
   * @param points the entries kept, in step order
   */
  public record Series(int logged, List<Point> points) {
    public static final int MAX_POINTS = 2_000;

    public static final Series EMPTY = new Series(0, List.of());

    public Series {
      points = points == null ? List.of() : List.copyOf(points);
    }
  }

  /**
   * One logged entry: training loss and learning rate, or held-out loss, at a global step.
   *
   * @param step the global step
   * @param loss training loss, or null
   * @param evalLoss held-out loss, or null
   * @param learningRate the learning rate, or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Point(long step, Double loss, Double evalLoss, Double learningRate) {}
}
