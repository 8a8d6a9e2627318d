package dev.syllabus.activities.kubernetes.sim;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * What one run of one container wrote to stdout and stderr, as the kubelet keeps it: whole lines,
 * each stamped with the time its newline arrived. Text without a newline (a tqdm bar redrawn with
 * {@code \r}) waits in a partial line until the newline comes or the container ends.
 */
final class ContainerLog {
  /** The kubelet's fixed-width RFC3339Nano, as {@code kubectl logs --timestamps} prints it. */
  static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** One line as stored: the text without its newline, and when it was written. */
  record Line(Instant time, String text) {
    String render(boolean timestamps) {
      return (timestamps ? TIMESTAMP.format(time) + " " : "") + text + "\n";
    }
  }

  /** Someone following the log: gets every new line, then the end. */
  interface Follower {
    void line(Line line);

    void end();
  }

  private final List<Line> lines = new ArrayList<>();
  private final List<Follower> followers = new ArrayList<>();
  private final StringBuilder partial = new StringBuilder();
  private Instant lastTime = Instant.EPOCH;
  private boolean ended;

  /** Writes text as a process would: lines end at {@code \n}; the rest waits for one. */
  void write(String text) {
    List<Line> complete = new ArrayList<>();
    List<Follower> toTell;
    synchronized (this) {
      if (ended) {
        return;
      }
      int start = 0;
      for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        partial.append(text, start, nl);
        complete.add(newLine(partial.toString()));
        partial.setLength(0);
        start = nl + 1;
      }
      partial.append(text.substring(start));
      lines.addAll(complete);
      toTell = List.copyOf(followers);
    }
    for (Line line : complete) {
      toTell.forEach(f -> f.line(line));
    }
  }

  /** Writes one whole line. */
  void println(String line) {
    write(line + "\n");
  }

  /** The container ended: what is left of a partial line is flushed and followers are told. */
  void end() {
    List<Follower> toTell;
    Line last = null;
    synchronized (this) {
      if (ended) {
        return;
      }
      if (partial.length() > 0) {
        last = newLine(partial.toString());
        lines.add(last);
        partial.setLength(0);
      }
      ended = true;
      toTell = List.copyOf(followers);
      followers.clear();
    }
    for (Follower f : toTell) {
      if (last != null) {
        f.line(last);
      }
      f.end();
    }
  }

  synchronized boolean ended() {
    return ended;
  }

  synchronized List<Line> lines() {
    return List.copyOf(lines);
  }

  /**
   * The lines so far, and from now on every new line to {@code follower}, without a gap or a repeat
   * between the two. When the log has already ended, the follower is not kept.
   */
  synchronized List<Line> follow(Follower follower) {
    if (!ended) {
      followers.add(follower);
    }
    return List.copyOf(lines);
  }

  synchronized void unfollow(Follower follower) {
    followers.remove(follower);
  }

  /** The whole log as text, one line per line, as {@code kubectl logs} shows it. */
  synchronized String text() {
    StringBuilder out = new StringBuilder();
    lines.forEach(l -> out.append(l.text()).append('\n'));
    return out.toString();
  }

  /** Each line gets its own instant, later than the one before, as a real log's would. */
  private Line newLine(String text) {
    Instant now = Instant.now();
    if (!now.isAfter(lastTime)) {
      now = lastTime.plusNanos(1);
    }
    lastTime = now;
    return new Line(now, text);
  }
}
