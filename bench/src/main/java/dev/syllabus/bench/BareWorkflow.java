package dev.syllabus.bench;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;

/**
 * The floor {@code syllabus bench} measures Syllabus against: a plain workflow that runs {@code n}
 * activities one after another, each doing nothing. Whatever a curriculum of {@code n} no-op phases
 * takes beyond this is Syllabus's own cost.
 */
@WorkflowInterface
public interface BareWorkflow {

  @WorkflowMethod
  int run(int n);

  /** The activity that does nothing. */
  @ActivityInterface
  interface Nothing {
    void nothing(int i);
  }

  /** Runs them. */
  class Impl implements BareWorkflow {
    private final Nothing nothing =
        Workflow.newActivityStub(
            Nothing.class,
            ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(30)).build());

    @Override
    public int run(int n) {
      for (int i = 0; i < n; i++) {
        nothing.nothing(i);
      }
      return n;
    }
  }

  /** Does nothing. */
  class NothingImpl implements Nothing {
    @Override
    public void nothing(int i) {}
  }
}
