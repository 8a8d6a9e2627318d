package dev.syllabus.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The API server's audit log, as the bench counts one user's requests in it: by verb and resource
 * (e.g. {@code create jobs}, {@code get pods/log}), from an offset the bench noted before a run.
 */
final class AuditLog {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final String user;

  /**
   * @param file the audit log, or null when it cannot be read (then nothing is counted)
   * @param user the user whose requests count: the worker's
   */
  AuditLog(Path file, String user) {
    this.file = file;
    this.user = user;
  }

  /** Where the log ends now: the offset to count from after a run; -1 when there is no log. */
  long end() {
    try {
      return file == null ? -1 : Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The user's requests since {@code offset}, by verb and resource; null when there is no log. The
   * API server writes its audit log in batches, a second apart at most: this waits for the last
   * batch.
   */
  Map<String, Integer> requestsSince(long offset) {
    if (offset < 0) {
      return null;
    }
    try {
      Thread.sleep(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return countedSince(offset);
  }

  /** The user's requests written since {@code offset}, by verb and resource, without waiting. */
  Map<String, Integer> countedSince(long offset) {
    Map<String, Integer> counts = new TreeMap<>();
    try (RandomAccessFile log = new RandomAccessFile(file.toFile(), "r")) {
      log.seek(offset);
      String line;
      while ((line = log.readLine()) != null) {
        JsonNode event =
            JSON.readTree(
                new String(line.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
        if (!user.equals(event.path("user").path("username").asText())) {
          continue;
        }
        JsonNode ref = event.path("objectRef");
        String resource = ref.path("resource").asText(event.path("requestURI").asText());
        if (ref.has("subresource")) {
          resource += "/" + ref.get("subresource").asText();
        }
        counts.merge(event.path("verb").asText() + " " + resource, 1, Integer::sum);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the audit log " + file, e);
    }
    return counts;
  }

  /** All the requests in {@code counts}. */
  static int total(Map<String, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }
}
