package dev.syllabus.workflows;

import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.Launch;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import io.temporal.activity.ActivityInterface;

/**
 * The side effects of a phase, one method per step of {@link PhaseWorkflowImpl}. One interface, one
 * implementation per backend ({@code local}, {@code kubernetes}), chosen when the worker starts.
 * Every method is idempotent: called again for the same job it finds its earlier work.
 */
@ActivityInterface
public interface PhaseActivities {

  /** The phase's objects, from the framework's manifests with the run's values injected. */
  RenderedPhase render(PhaseTask task, int attempt);

  /**
   * Creates the phase's servers (Deployments, Services and what they need) ahead of its Job; adopts
   * those already created for it.
   */
  void submitServers(RenderedPhase rendered);

  /**
   * Waits until the phase's servers are ready or about {@code reportEveryMillis} have passed,
   * heartbeating as it goes; says what it is still waiting for.
   */
  ServersStatus awaitServers(RenderedPhase rendered, long reportEveryMillis);

  /** Creates the phase's objects and starts its job; adopts a job already started for it. */
  JobSnapshot startJob(RenderedPhase rendered);

  /**
   * {@link #render} and, unless the phase has servers to start first, {@link #startJob}: one
   * activity instead of two, so one round trip to the server fewer between a phase's job and the
   * next one's.
   */
  default Launch launch(PhaseTask task, int attempt) {
    RenderedPhase rendered = render(task, attempt);
    return new Launch(rendered, rendered.hasServers() ? null : startJob(rendered));
  }

  /**
   * Follows the job until its state changes or about {@code reportEveryMillis} have passed with new
   * progress, heartbeating as it goes; then returns what it saw. {@code last} is the previous
   * snapshot, so only new output is read.
   */
  JobSnapshot followJob(JobRef job, JobSnapshot last, long reportEveryMillis);

  /**
   * Asks the job to stop after saving a checkpoint (SIGTERM locally, {@code spec.suspend} on
   * Kubernetes) and scales its servers to zero. Returns at once; {@link #followJob} sees the job
   * stop. Stopping a job that is stopped already stops only what runs.
   */
  void stopJob(JobRef job, String reason);

  /**
   * Starts a stopped phase's servers again (the stop scaled them to zero), without its job: the
   * workflow waits for them with {@link #awaitServers}, then calls {@link #resumeJob}.
   */
  void resumeServers(JobRef job);

  /**
   * Starts a stopped job again; it resumes from its latest checkpoint. A phase with servers calls
   * it once they are ready again.
   */
  JobSnapshot resumeJob(JobRef job);

  /**
   * Finds the phase's latest complete checkpoint, records it in the run's lineage and returns the
   * triplet the next phase starts from.
   */
  Handoff collect(PhaseTask task, JobRef job);

  /** Removes what the job left running (services, processes). Safe to call more than once. */
  void teardown(JobRef job, String reason);
}
