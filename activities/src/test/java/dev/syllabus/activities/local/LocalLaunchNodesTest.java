package dev.syllabus.activities.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.syllabus.activities.Kubeconfigs;
import dev.syllabus.activities.Renderer;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.DataSpec;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.recipe.WorkloadResources;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local backend runs one process: a trainer on several nodes is refused, not half-run. */
class LocalLaunchNodesTest {

  @TempDir Path dir;

  @Test
  void aTrainerOnSeveralNodesIsRefusedWithTheReason() {
    Phase phase =
        Phase.builder("wide")
            .until(1.0)
            .framework("tiny", "train")
            .resources("train", new WorkloadResources(1, null, null, 2))
            .build();
    PhaseTask task =
        new PhaseTask(
            "run-1",
            "demo",
            0,
            phase,
            new StepRange(0, 10),
            10,
            new Triplet(null, null, null),
            DataSpec.of("synthetic:waves-easy"),
            1000,
            0,
            null);
    Path repo = Path.of("..");
    RenderedPhase rendered =
        new Renderer(new Kubeconfigs(repo.resolve("kubeconfigs"))).render(task, 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LocalLaunch.prepare(rendered, dir.resolve("store"), repo, dir.resolve("job")));
    assertEquals(
        "phase wide asks for 2 nodes (resources.train.nodes): the local backend runs one process;"
            + " use the kubernetes backend",
        e.getMessage());
  }
}
