package dev.syllabus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.syllabus.workflows.PhaseActivities;
import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.StepRange;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.testing.TestActivityEnvironment;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.worker.WorkerFactoryOptions;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * SYLLABUS_HOLD is read once, as the worker starts; a malformed value is one line naming it. The
 * worker finds the holds on its classpath, and a held activity says so in the log before it runs.
 */
class HeldActivitiesTest {
  private static final ActivityInboundCallsInterceptor NEXT =
      new ActivityInboundCallsInterceptorBase(null);

  /** A backend whose activities do nothing. */
  private static final PhaseActivities BACKEND =
      (PhaseActivities)
          Proxy.newProxyInstance(
              PhaseActivities.class.getClassLoader(),
              new Class<?>[] {PhaseActivities.class},
              (proxy, method, args) -> null);

  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private TestActivityEnvironment environment;

  @BeforeEach
  void readTheLog() {
    log.start();
    ((Logger) LoggerFactory.getLogger(HeldActivities.class)).addAppender(log);
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger(HeldActivities.class)).detachAppender(log);
    if (environment != null) {
      environment.close();
    }
  }

  @Test
  void noHoldLeavesActivitiesAlone() {
    assertSame(NEXT, new HeldActivities(null).interceptActivity(NEXT));
    assertSame(NEXT, new HeldActivities(" ").interceptActivity(NEXT));
  }

  @Test
  void anItemWithoutAPhaseIsNamed() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new HeldActivities("render=5000"));
    assertEquals(
        "SYLLABUS_HOLD: 'render=5000' is not activity@phase=millis (e.g. render@easy=5000)",
        e.getMessage());
  }

  @Test
  void aDurationThatIsNoNumberIsNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new HeldActivities("render@easy=5000,collect@easy=soon"));
    assertEquals(
        "SYLLABUS_HOLD: 'soon' in 'collect@easy=soon' is not a number of milliseconds",
        e.getMessage());
  }

  @Test
  void theWorkerFindsTheHoldsOnItsClasspath() {
    assertTrue(
        ServiceLoader.load(WorkerInterceptor.class).stream()
            .anyMatch(p -> p.type() == HeldActivities.class));
  }

  @Test
  void aHeldActivityOfThePhaseSaysSoBeforeItRuns() {
    PhaseActivities activities = worker("Collect@easy=50,collect@hard=50");

    activities.collect(task("easy"), JobRef.of("r", 0, "easy", 1));
    activities.collect(task("medium"), JobRef.of("r", 1, "medium", 1));
    activities.resumeJob(JobRef.of("r", 2, "hard", 1));

    assertEquals(List.of("holding collect of phase easy for 50 ms (SYLLABUS_HOLD)"), holds());
  }

  @Test
  void launchWaitsForTheHoldsOfRenderAndStartJob() {
    PhaseActivities activities = worker("render@easy=10,startJob@easy=20");

    activities.launch(task("easy"), 1);

    assertEquals(
        List.of(
            "holding render of phase easy for 10 ms (SYLLABUS_HOLD)",
            "holding startJob of phase easy for 20 ms (SYLLABUS_HOLD)"),
        holds());
  }

  /** The activities of a test worker with the holds {@code spec} asks for. */
  private PhaseActivities worker(String spec) {
    environment =
        TestActivityEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder()
                .setWorkerFactoryOptions(
                    WorkerFactoryOptions.newBuilder()
                        .setWorkerInterceptors(new HeldActivities(spec))
                        .build())
                .build());
    environment.registerActivitiesImplementations(BACKEND);
    return environment.newActivityStub(
        PhaseActivities.class,
        ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(30)).build());
  }

  private static PhaseTask task(String phase) {
    return new PhaseTask(
        "r",
        "demo",
        0,
        Phase.builder(phase).steps(10).framework("noop", "job").build(),
        new StepRange(0, 10),
        10,
        null,
        null,
        1000,
        0,
        null);
  }

  /** The holds announced in the log, as they started. */
  private List<String> holds() {
    return log.list.stream()
        .map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.startsWith("holding "))
        .toList();
  }
}
