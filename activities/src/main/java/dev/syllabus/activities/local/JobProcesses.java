package dev.syllabus.activities.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the processes of a phase's local jobs, whoever started them: every job process carries
 * {@value #MARKER}{@code =<job folder>} in its environment, and its children inherit it. This is
 * how a worker that was restarted makes sure no trainer of the phase is still running before it
 * starts one, even one whose wrapper was killed and whose pid file therefore names nothing.
 *
 * <p>Reads {@code /proc}; where there is none (not Linux) it finds nothing, and the pid file is all
 * there is to go by.
 */
final class JobProcesses {
  /** The environment variable that marks a process as belonging to a local job. */
  static final String MARKER = "SYLLABUS_LOCAL_JOB";

  private static final Path PROC = Path.of("/proc");

  private JobProcesses() {}

  /** Live processes whose job folder lies under {@code jobsDir}: every job of a phase. */
  static List<ProcessHandle> under(Path jobsDir) {
    return find(jobsDir.toAbsolutePath().normalize() + "/", true);
  }

  /** Live processes of the job whose folder is {@code jobDir}. */
  static List<ProcessHandle> of(Path jobDir) {
    return find(jobDir.toAbsolutePath().normalize().toString(), false);
  }

  private static List<ProcessHandle> find(String folder, boolean prefix) {
    List<ProcessHandle> found = new ArrayList<>();
    if (!Files.isDirectory(PROC)) {
      return found;
    }
    byte[] wanted = (MARKER + "=" + folder).getBytes(StandardCharsets.UTF_8);
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path entry : entries) {
        long pid = Long.parseLong(entry.getFileName().toString());
        if (pid != self && marked(entry.resolve("environ"), wanted, prefix)) {
          ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(found::add);
        }
      }
    } catch (IOException e) {
      // /proc changes as we read it; what could not be read is not ours to find
    }
    return found;
  }

  /** Whether the NUL-separated environment holds the marker (exactly, or as a prefix). */
  private static boolean marked(Path environ, byte[] wanted, boolean prefix) {
    byte[] env;
    try {
      env = Files.readAllBytes(environ);
    } catch (IOException | SecurityException e) {
      return false; // gone, or another user's
    }
    int start = 0;
    for (int i = 0; i <= env.length; i++) {
      if (i == env.length || env[i] == 0) {
        int length = i - start;
        if (length >= wanted.length
            && (prefix || length == wanted.length)
            && regionMatches(env, start, wanted)) {
          return true;
        }
        start = i + 1;
      }
    }
    return false;
  }

  private static boolean regionMatches(byte[] env, int start, byte[] wanted) {
    for (int j = 0; j < wanted.length; j++) {
      if (env[start + j] != wanted[j]) {
        return false;
      }
    }
    return true;
  }
}
