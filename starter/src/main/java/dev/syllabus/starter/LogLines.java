package dev.syllabus.starter;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * What {@code syllabus logs} prints: the bytes of a log as they come (from a file or a pod's
 * stream), passed on a whole line at a time, so that a UTF-8 character is never split and the
 * output of two sources never interleaves within a line.
 */
final class LogLines extends OutputStream {
  private final PrintWriter out;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private volatile long lastWrite = System.nanoTime();

  LogLines(PrintWriter out) {
    this.out = out;
  }

  @Override
  public synchronized void write(int b) {
    lastWrite = System.nanoTime();
    pending.write(b);
    if (b == '\n') {
      emit();
    }
  }

  @Override
  public synchronized void write(byte[] bytes, int off, int len) {
    lastWrite = System.nanoTime();
    int start = off;
    for (int i = off; i < off + len; i++) {
      if (bytes[i] == '\n') {
        pending.write(bytes, start, i + 1 - start);
        emit();
        start = i + 1;
      }
    }
    pending.write(bytes, start, off + len - start);
  }

  /** Whether nothing came for at least {@code millis}. */
  boolean quietFor(long millis) {
    return System.nanoTime() - lastWrite >= millis * 1_000_000;
  }

  /** Prints a last line that has no newline yet, as it is. */
  @Override
  public synchronized void flush() {
    if (pending.size() > 0) {
      emit();
    }
  }

  private void emit() {
    out.print(pending.toString(StandardCharsets.UTF_8));
    out.flush();
    pending.reset();
  }
}
