package dev.syllabus.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  private static final String WORKER = "system:serviceaccount:ml:syllabus-worker";

  @TempDir Path dir;

  private static String event(String user, String verb, String objectRef) {
    return "{\"user\":{\"username\":\""
        + user
        + "\"},\"verb\":\""
        + verb
        + "\",\"objectRef\":"
        + objectRef
        + "}\n";
  }

  @Test
  void theWorkersRequestsAreCountedByVerbAndResource() throws Exception {
    Path file = dir.resolve("audit.log");
    Files.writeString(
        file,
        event(WORKER, "create", "{\"resource\":\"jobs\"}")
            + event(WORKER, "get", "{\"resource\":\"pods\",\"subresource\":\"log\"}")
            + event(WORKER, "create", "{\"resource\":\"jobs\"}")
            + event("admin", "delete", "{\"resource\":\"jobs\"}"));

    Map<String, Integer> counts = new AuditLog(file, WORKER).countedSince(0);

    assertEquals(Map.of("create jobs", 2, "get pods/log", 1), counts);
    assertEquals(3, AuditLog.total(counts));
  }

  @Test
  void onlyTheRequestsSinceTheOffsetCount() throws Exception {
    Path file = dir.resolve("audit.log");
    Files.writeString(file, event(WORKER, "create", "{\"resource\":\"jobs\"}"));
    AuditLog log = new AuditLog(file, WORKER);
    long before = log.end();
    Files.writeString(
        file, Files.readString(file) + event(WORKER, "watch", "{\"resource\":\"pods\"}"));

    assertEquals(Map.of("watch pods", 1), log.countedSince(before));
  }

  @Test
  void withoutAnAuditLogNothingIsCounted() {
    AuditLog log = new AuditLog(null, WORKER);

    assertEquals(-1, log.end());
    assertNull(log.requestsSince(log.end()));
  }
}
