package dev.syllabus.activities.local;

import dev.syllabus.activities.Progress;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a local job's {@code output.log} for progress, a line at a time, from where the last read
 * stopped. The cursor that travels in the workflow is a count of complete lines, as on every
 * backend; this worker remembers the byte offset each count ended at, so following a job reads only
 * new bytes. A worker that does not know the offset (it was restarted) counts the lines from the
 * start once.
 */
final class OutputLog {
  private static final int MAX_READ = 4 << 20;

  /** Where a count of lines ended in a job's log, as this worker last read it. */
  private record Position(long lines, long bytes) {}

  private final Map<Path, Position> positions = new ConcurrentHashMap<>();

  /** What was read: the progress after the new lines, and how many lines have been read in all. */
  record Read(Progress progress, long lines) {}

  /**
   * Reads the complete lines after the first {@code linesRead} of {@code file}. A line still being
   * written waits for the next read; a missing file has no lines yet.
   */
  Read read(Path file, long linesRead, Progress from) {
    Position position = positions.get(file);
    boolean known = position != null && position.lines() == linesRead;
    long lines = known ? position.lines() : 0;
    long offset = known ? position.bytes() : 0;
    Progress progress = from;
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      while (offset < length) {
        int n = (int) Math.min(MAX_READ, length - offset);
        byte[] bytes = new byte[n];
        in.seek(offset);
        in.readFully(bytes);
        int consumed = 0;
        for (int i = 0; i < n; i++) {
          if (bytes[i] == '\n' || bytes[i] == '\r') {
            if (lines >= linesRead) {
              progress =
                  progress.read(new String(bytes, consumed, i - consumed, StandardCharsets.UTF_8));
            }
            lines++;
            consumed = i + 1;
          }
        }
        if (consumed == 0) {
          break; // a line longer than MAX_READ, or one still being written
        }
        offset += consumed;
      }
    } catch (IOException e) {
      if (Files.exists(file)) {
        throw new UncheckedIOException(e);
      }
      return new Read(progress, linesRead);
    }
    positions.put(file, new Position(lines, offset));
    return new Read(progress, Math.max(lines, linesRead));
  }

  /** The last non-blank line of {@code file}, for a failure's message. */
  static String lastLine(Path file) {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      int n = (int) Math.min(4096, length);
      byte[] bytes = new byte[n];
      in.seek(length - n);
      in.readFully(bytes);
      String[] lines = new String(bytes, StandardCharsets.UTF_8).split("[\r\n]+");
      for (int i = lines.length - 1; i >= 0; i--) {
        if (!lines[i].isBlank()) {
          return lines[i].strip();
        }
      }
      return "(no output)";
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  /** Forgets a job's log, once the job is torn down. */
  void forget(Path file) {
    positions.remove(file);
  }
}
