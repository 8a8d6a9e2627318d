package dev.syllabus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.syllabus.workflows.PhaseActivities;
import org.junit.jupiter.api.Test;

/** SYLLABUS_HOLD is read once, as the worker starts; a malformed value is one line naming it. */
class HeldActivitiesTest {
  private static final PhaseActivities BACKEND =
      (PhaseActivities)
          java.lang.reflect.Proxy.newProxyInstance(
              PhaseActivities.class.getClassLoader(),
              new Class<?>[] {PhaseActivities.class},
              (proxy, method, args) -> null);

  @Test
  void noHoldIsTheBackendItself() {
    assertSame(BACKEND, HeldActivities.wrap(BACKEND, null));
    assertSame(BACKEND, HeldActivities.wrap(BACKEND, " "));
  }

  @Test
  void anItemWithoutAPhaseIsNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> HeldActivities.wrap(BACKEND, "render=5000"));
    assertEquals(
        "SYLLABUS_HOLD: 'render=5000' is not activity@phase=millis (e.g. render@easy=5000)",
        e.getMessage());
  }

  @Test
  void aDurationThatIsNoNumberIsNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> HeldActivities.wrap(BACKEND, "render@easy=5000,collect@easy=soon"));
    assertEquals(
        "SYLLABUS_HOLD: 'soon' in 'collect@easy=soon' is not a number of milliseconds",
        e.getMessage());
  }
}
