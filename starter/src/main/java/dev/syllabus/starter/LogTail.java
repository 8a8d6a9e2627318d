package dev.syllabus.starter;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** Where the last lines of a log file start, found from its end: a log can be large. */
final class LogTail {
  private static final int BLOCK = 64 * 1024;

  private LogTail() {}

  /**
   * The byte offset at which the last {@code lines} lines of {@code file} start (0 when it has
   * fewer). A newline that ends the file ends its last line; it does not start another.
   */
  static long startOfLast(Path file, int lines) throws IOException {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long end = in.length();
      if (lines <= 0) {
        return end;
      }
      byte[] block = new byte[BLOCK];
      int seen = 0;
      long pos = end;
      while (pos > 0) {
        int n = (int) Math.min(BLOCK, pos);
        pos -= n;
        in.seek(pos);
        in.readFully(block, 0, n);
        for (int i = n - 1; i >= 0; i--) {
          if (block[i] == '\n' && pos + i != end - 1 && ++seen == lines) {
            return pos + i + 1;
          }
        }
      }
      return 0;
    }
  }
}
