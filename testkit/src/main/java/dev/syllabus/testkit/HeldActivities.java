package dev.syllabus.testkit;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes chosen activities wait a while before they run, so that a test (or a person trying it out)
 * can kill the worker in the middle of one: {@value #VARIABLE}{@code
 * =render@easy=5000,collect@easy=5000} holds the render and the collect of phase {@code easy} for
 * five seconds each. The activity is a {@code PhaseActivities} method, in any case ({@code render},
 * {@code startJob}, {@code collect}, …); the phase is the one its task, rendered phase or job
 * belongs to. Each hold is announced in the worker's log as it starts. {@code launch} (render then
 * start in one activity) waits for the holds of both {@code render} and {@code startJob} of its
 * phase, before it runs.
 *
 * <p>A Temporal worker interceptor: the worker installs it when this module's jar is on its
 * classpath ({@code META-INF/services}). Not for production, and never in the {@code syllabus} jar.
 */
public final class HeldActivities extends WorkerInterceptorBase {
  /** The environment variable that asks for holds. */
  public static final String VARIABLE = "SYLLABUS_HOLD";

  private static final Logger log = LoggerFactory.getLogger(HeldActivities.class);

  private final Map<String, Long> holds;

  /**
   * The holds {@value #VARIABLE} asks for, read once, as the worker starts.
   *
   * @throws IllegalArgumentException when the variable is malformed, naming the bad item
   */
  public HeldActivities() {
    this(System.getenv(VARIABLE));
  }

  /** The holds {@code spec} asks for ({@value #VARIABLE}'s syntax); none if it is null or blank. */
  HeldActivities(String spec) {
    this.holds = parse(spec);
    if (!holds.isEmpty()) {
      log.warn("{} is set: these activities wait before they run: {}", VARIABLE, holds);
    }
  }

  private static Map<String, Long> parse(String spec) {
    Map<String, Long> holds = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return holds;
    }
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
    return holds;
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return holds.isEmpty() ? next : new Holding(next);
  }

  /** One activity execution: waits for its holds, then calls on. */
  private final class Holding extends ActivityInboundCallsInterceptorBase {
    private String type;

    Holding(ActivityInboundCallsInterceptor next) {
      super(next);
    }

    @Override
    public void init(ActivityExecutionContext context) {
      type = context.getInfo().getActivityType();
      super.init(context);
    }

    @Override
    public ActivityOutput execute(ActivityInput input) {
      String phase = phaseOf(input.getArguments());
      if (phase != null) {
        for (String activity : heldAs(type)) {
          hold(activity, phase);
        }
      }
      return super.execute(input);
    }
  }

  /**
   * The {@code PhaseActivities} methods whose holds an activity of {@code type} waits for: its own
   * (the SDK names the type after the method, capitalised: {@code Render}), or for {@code Launch},
   * those of the two it does in one.
   */
  private static List<String> heldAs(String type) {
    String method = Character.toLowerCase(type.charAt(0)) + type.substring(1);
    return method.equals("launch") ? List.of("render", "startJob") : List.of(method);
  }

  /** The phase an activity works on, from its first argument that names one; null if none does. */
  private static String phaseOf(Object[] arguments) {
    for (Object argument : arguments) {
      if (argument instanceof PhaseTask task) {
        return task.phase().name();
      }
      if (argument instanceof RenderedPhase rendered) {
        return rendered.job().phase();
      }
      if (argument instanceof JobRef job) {
        return job.phase();
      }
    }
    return null;
  }

  private void hold(String activity, String phase) {
    Long millis = millis(activity + "@" + phase);
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

  /** The hold asked for {@code activity@phase}, however the activity was capitalised. */
  private Long millis(String key) {
    for (Map.Entry<String, Long> hold : holds.entrySet()) {
      if (hold.getKey().equalsIgnoreCase(key)) {
        return hold.getValue();
      }
    }
    return null;
  }
}
