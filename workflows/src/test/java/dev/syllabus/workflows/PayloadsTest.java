package dev.syllabus.workflows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobProgress;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.JobState;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.PhaseProgress;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.job.Wanted;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec;
import dev.syllabus.workflows.recipe.OptimizerSpec.OptimizerState;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.recipe.WorkloadResources;
import dev.syllabus.workflows.status.PhaseState;
import dev.syllabus.workflows.status.PhaseStatus;
import dev.syllabus.workflows.status.RunState;
import dev.syllabus.workflows.status.RunStatus;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Everything that crosses Temporal survives its default data converter unchanged. Guards against
 * Jackson taking a derived accessor such as {@code isEmpty()} for a property, which breaks
 * decoding.
 */
class PayloadsTest {
  private static final DataConverter CONVERTER = DefaultDataConverter.newDefaultInstance();

  /** Every field set, including nested framework config with numbers of several kinds. */
  static final Recipe RECIPE =
      Recipe.builder("sft-then-grpo")
          .description("SFT warm-up, then GRPO")
          .totalSteps(3000)
          .baseModel("Qwen/Qwen2.5-7B-Instruct")
          .phase(
              Phase.builder("sft")
                  .until(0.3)
                  .framework("tiny", "train")
                  .image("ghcr.io/example/trainer:1906")
                  .pullLatest(true)
                  .resources("train", new WorkloadResources(8, "32", "1600Gi", 4))
                  .data(
                      new DataSpec(List.of(Map.of("path", "org/sft-mix", "type", "chat_template"))))
                  .optimizer(new OptimizerSpec("adamw_torch", 2.0e-5, OptimizerState.RESET))
                  .config("sequence_len", 4096)
                  .config("seed", 10_000_000_000L)
                  .config("warmup", 0.1)
                  .config("packing", true)
                  .config("lora", Map.of("r", 16, "targets", List.of("q", "v")))
                  .retries(5))
          .phase(Phase.builder("bridge").steps(300).framework("tiny", "train"))
          .phase(
              Phase.builder("grpo")
                  .until(1.0)
                  .framework("tiny", "train")
                  .resources("train", WorkloadResources.gpus(6))
                  .optimizer(new OptimizerSpec(null, 1.0e-6, OptimizerState.CARRY)))
          .build();

  static final ArtifactRef MODEL =
      new ArtifactRef(
          ArtifactRef.Kind.MODEL,
          "file:///s/r/0-sft/checkpoint-900",
          "r/0-sft/checkpoint-900",
          "sft",
          900,
          "sha256:ab");
  static final ArtifactRef OPTIMIZER =
      new ArtifactRef(
          ArtifactRef.Kind.OPTIMIZER,
          "file:///s/r/0-sft/checkpoint-900/optimizer.pt",
          "r/0-sft/checkpoint-900/optimizer.pt",
          "sft",
          900,
          "sha256:cd");
  static final Triplet TRIPLET =
      new Triplet(MODEL, OPTIMIZER, ArtifactRef.external(ArtifactRef.Kind.DATA, "org/sft-mix"));
  static final JobRef JOB = JobRef.of("r", 1, "bridge", 2);
  static final JobSnapshot SNAPSHOT =
      JobSnapshot.of(
          JobState.RUNNING, new JobProgress(120, 300, 0.12, 0.03, 100L), 412, null, "running");
  static final RenderedPhase RENDERED =
      new RenderedPhase(
          JOB,
          List.of(
              new Manifest("ConfigMap", "r-1-bridge-2-config", null, "kind: ConfigMap\n"),
              new Manifest("Job", "r-1-bridge-2", "train", "kind: Job\n")));
  static final PhaseStatus STATUS =
      new PhaseStatus(
          1,
          "bridge",
          "tiny",
          "train",
          PhaseState.RUNNING,
          900,
          1200,
          1020,
          0.12,
          0.03,
          2,
          TRIPLET,
          "why",
          1000L,
          3);
  static final RunStatus RUN =
      new RunStatus(
          "r",
          "sft-then-grpo",
          RunState.PAUSED,
          1020,
          3000,
          0.34,
          1,
          List.of(STATUS, STATUS.withState(PhaseState.PENDING, null).withArtifacts(null)),
          TRIPLET,
          "paused by ana");
  static final PhaseTask TASK =
      new PhaseTask(
          "r",
          "sft-then-grpo",
          1,
          RECIPE.phases().get(1),
          new StepRange(900, 1200),
          3000,
          TRIPLET,
          DataSpec.of("org/sft-mix"),
          1000,
          0,
          null,
          1_754_000_000_000L);

  private static void roundTrips(Object value) {
    Payload payload = CONVERTER.toPayload(value).orElseThrow();
    assertEquals(value, CONVERTER.fromPayload(payload, value.getClass(), value.getClass()));
  }

  @Test
  void recipe() {
    roundTrips(RECIPE);
  }

  @Test
  void resourcesWrittenBeforeNodesExistedAreOnOneNode() {
    Payload old =
        CONVERTER.toPayload(Map.of("gpu", 8, "cpu", "32", "memory", "1600Gi")).orElseThrow();
    assertEquals(
        new WorkloadResources(8, "32", "1600Gi", 1),
        CONVERTER.fromPayload(old, WorkloadResources.class, WorkloadResources.class));
  }

  @Test
  void runInput() {
    roundTrips(new RunInput(RECIPE, new RunSettings(500, 40), null));
  }

  @Test
  void runInputCarryingTheStatusOfAnEarlierRun() {
    roundTrips(new RunInput(RECIPE, RunSettings.DEFAULTS, RUN));
  }

  @Test
  void runStatus() {
    roundTrips(RUN);
  }

  @Test
  void phaseStatus() {
    roundTrips(STATUS);
  }

  @Test
  void phaseTask() {
    roundTrips(TASK);
  }

  @Test
  void phaseTaskCarryingProgress() {
    roundTrips(
        TASK.withCarried(
            new PhaseProgress(
                STATUS,
                JOB,
                RENDERED,
                SNAPSHOT,
                true,
                false,
                new Wanted(true, false, false, "because"),
                2,
                1234L)));
  }

  @Test
  void jobSnapshot() {
    roundTrips(SNAPSHOT);
    roundTrips(
        new JobSnapshot(
            JobState.FAILED,
            new JobProgress(300, 300, 0.1, null, 300L),
            9000,
            137,
            "OOMKilled",
            true,
            false));
    roundTrips(JobSnapshot.pending(JobProgress.none(300), "created Job r-1-bridge-2"));
  }

  @Test
  void renderedPhase() {
    roundTrips(RENDERED);
  }

  @Test
  void handoff() {
    roundTrips(new Handoff(TRIPLET, 300L, "checkpoint-300 handed on"));
    roundTrips(new Handoff(Triplet.EMPTY, null, "no checkpoint; the input passed through"));
  }

  @Test
  void phaseOutcome() {
    roundTrips(
        new PhaseOutcome(
            STATUS.withState(PhaseState.COMPLETED, null), TRIPLET, 1_754_000_000_000L));
  }

  /**
   * A run of 2,000 finished phases continues as new in one payload under Temporal's 2 MB limit per
   * event ({@code limit.blobSize.error}); whole artifact references in every phase's status would
   * not fit.
   */
  @Test
  void aTwoThousandPhaseRunContinuesAsNewUnderTheTwoMegabytePayloadLimit() {
    int n = 2_000;
    Recipe.Builder recipe = Recipe.builder("long").totalSteps(10L * n);
    List<PhaseStatus> phases = new java.util.ArrayList<>();
    Triplet last = Triplet.EMPTY;
    for (int i = 0; i < n; i++) {
      String name = "p" + i;
      recipe.phase(Phase.builder(name).steps(10).framework("noop", "job"));
      String folder = "bench-long-4c1f9a2e/" + i + "-" + name + "/checkpoint-10";
      String digest = "sha256:" + "0123456789abcdef".repeat(4);
      ArtifactRef model =
          new ArtifactRef(
              ArtifactRef.Kind.MODEL,
              "file:///tmp/syllabus-bench-123/runs/" + folder,
              folder,
              name,
              10L * (i + 1),
              digest);
      ArtifactRef data =
          new ArtifactRef(
              ArtifactRef.Kind.DATA,
              "file:///tmp/syllabus-bench-123/runs/" + folder + "/../data.json",
              folder + "/../data.json",
              name,
              10L * (i + 1),
              digest);
      last =
          new Triplet(
              model,
              new ArtifactRef(
                  ArtifactRef.Kind.OPTIMIZER,
                  model.uri(),
                  model.path(),
                  name,
                  model.step(),
                  digest),
              data);
      phases.add(
          new PhaseStatus(
              i,
              name,
              "noop",
              "job",
              PhaseState.COMPLETED,
              10L * i,
              10L * (i + 1),
              10L * (i + 1),
              null,
              null,
              1,
              last,
              "checkpoint-10 handed on",
              10L * (i + 1),
              0));
    }
    RunStatus status =
        new RunStatus(
            "bench-long-4c1f9a2e",
            "long",
            RunState.RUNNING,
            10L * n,
            10L * n,
            1.0,
            n,
            phases,
            last,
            null);
    RunInput whole = new RunInput(recipe.build(), RunSettings.DEFAULTS, status);
    RunInput carried = whole.withCarried(status.forCarrying());

    long limit = 2L * 1024 * 1024;
    long wholeBytes = CONVERTER.toPayloads(whole).orElseThrow().getSerializedSize();
    long carriedBytes = CONVERTER.toPayloads(carried).orElseThrow().getSerializedSize();
    assertTrue(wholeBytes > limit, "whole references: " + wholeBytes + " bytes");
    assertTrue(carriedBytes < limit * 3 / 4, "carried: " + carriedBytes + " bytes");
    assertEquals(last, carried.carried().artifacts(), "the next phase's artifacts stay whole");
    assertEquals(last.model().brief(), carried.carried().phases().get(n - 1).artifacts().model());
  }
}
