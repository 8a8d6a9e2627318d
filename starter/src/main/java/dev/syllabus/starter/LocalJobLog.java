package dev.syllabus.starter;

import dev.syllabus.activities.local.JobFolder;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * A job of the {@code local} backend, as {@code syllabus logs} reads it: its {@code output.log}
 * (the trainer's output and error, with a {@code syllabus:} line at each start and resume), read on
 * the machine that runs it.
 */
final class LocalJobLog {
  /** How often a followed log is read again: a file gives no notice of new lines. */
  private static final long POLL_MILLIS = 200;

  private final JobFolder folder;

  LocalJobLog(JobFolder folder) {
    this.folder = folder;
  }

  boolean exists() {
    return Files.exists(folder.output());
  }

  /**
   * Prints the log (its last {@code tail} lines, or all when null) and, with {@code follow}, what
   * the job prints next until it ends: it exits, is paused or stopped, or its process is gone.
   */
  void print(Integer tail, boolean follow, LogLines out) throws InterruptedException {
    try {
      long offset = tail == null ? 0 : LogTail.startOfLast(folder.output(), tail);
      offset = copy(offset, out);
      while (follow) {
        boolean ended = folder.ended();
        // Read after learning of the end, so that the job's last lines are printed.
        offset = copy(offset, out);
        if (ended) {
          break;
        }
        Thread.sleep(POLL_MILLIS);
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies what the file holds after {@code offset}; returns the offset after it. */
  private long copy(long offset, LogLines out) throws IOException {
    try (RandomAccessFile in = new RandomAccessFile(folder.output().toFile(), "r")) {
      long end = in.length();
      byte[] block = new byte[64 * 1024];
      long pos = offset;
      while (pos < end) {
        int n = (int) Math.min(block.length, end - pos);
        in.seek(pos);
        in.readFully(block, 0, n);
        out.write(block, 0, n);
        pos += n;
      }
      return pos;
    }
  }
}
