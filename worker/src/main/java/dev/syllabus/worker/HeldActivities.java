package dev.syllabus.worker;

import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.job.Handoff;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.JobSnapshot;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.ServersStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend whose chosen activities wait a while before they run, so that a test (or a person
 * trying it out) can kill the worker in the middle of one: {@value #VARIABLE}{@code
 * =render@easy=5000,collect@easy=5000} holds the render and the collect of phase {@code easy} for
 * five seconds each. Each hold is announced in the worker's log as it starts. {@code launch}
 * (render then start in one activity) goes through the held {@code render} and {@code startJob}.
 * Not for production.
 */
public final class HeldActivities implements PhaseActivities {
  /** The environment variable that asks for holds. */
  public static final String VARIABLE = "SYLLABUS_HOLD";

  private static final Logger log = LoggerFactory.getLogger(HeldActivities.class);

  private final PhaseActivities backend;
  private final Map<String, Long> holds;

  private HeldActivities(PhaseActivities backend, Map<String, Long> holds) {
    this.backend = backend;
    this.holds = holds;
  }

  /** {@code backend} with the holds {@code spec} asks for; {@code backend} itself if none. */
  public static PhaseActivities wrap(PhaseActivities backend, String spec) {
    if (spec == null || spec.isBlank()) {
      return backend;
    }
    Map<String, Long> holds = new LinkedHashMap<>();
    for (String item : spec.split(",")) {
      String[] parts = item.trim().split("=");
      if (parts.length != 2 || !parts[0].contains("@")) {
        throw new IllegalArgumentException(
            VARIABLE + ": '" + item + "' is not activity@phase=millis (e.g. render@easy=5000)");
      }
      try {
        holds.put(parts[0].trim(), Long.parseLong(parts[1].trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            VARIABLE + ": '" + parts[1] + "' in '" + item + "' is not a number of milliseconds");
      }
    }
    log.warn("{} is set: these activities wait before they run: {}", VARIABLE, holds);
    return new HeldActivities(backend, holds);
  }

  private void hold(String activity, String phase) {
    Long millis = holds.get(activity + "@" + phase);
    if (millis == null) {
      return;
    }
    log.warn("holding {} of phase {} for {} ms ({})", activity, phase, millis, VARIABLE);
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while holding " + activity, e);
    }
  }

  @Override
  public RenderedPhase render(PhaseTask task, int attempt) {
    hold("render", task.phase().name());
    return backend.render(task, attempt);
  }

  @Override
  public void submitServers(RenderedPhase rendered) {
    hold("submitServers", rendered.job().phase());
    backend.submitServers(rendered);
  }

  @Override
  public ServersStatus awaitServers(RenderedPhase rendered, long reportEveryMillis) {
    return backend.awaitServers(rendered, reportEveryMillis);
  }

  @Override
  public JobSnapshot startJob(RenderedPhase rendered) {
    hold("startJob", rendered.job().phase());
    return backend.startJob(rendered);
  }

  @Override
  public JobSnapshot followJob(JobRef job, JobSnapshot last, long reportEveryMillis) {
    return backend.followJob(job, last, reportEveryMillis);
  }

  @Override
  public void stopJob(JobRef job, String reason) {
    backend.stopJob(job, reason);
  }

  @Override
  public void resumeServers(JobRef job) {
    hold("resumeServers", job.phase());
    backend.resumeServers(job);
  }

  @Override
  public JobSnapshot resumeJob(JobRef job) {
    hold("resumeJob", job.phase());
    return backend.resumeJob(job);
  }

  @Override
  public Handoff collect(PhaseTask task, JobRef job) {
    hold("collect", task.phase().name());
    return backend.collect(task, job);
  }

  @Override
  public void teardown(JobRef job, String reason) {
    backend.teardown(job, reason);
  }
}
