package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.Progress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ContainerResource;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the trainers' pod logs for progress: one streaming request per pod ({@code follow=true},
 * {@code timestamps=true}) for as long as the pod runs, however many times the workflow asks. A
 * stream that breaks is opened again with {@code sinceTime} at the last line's second, and the
 * lines already read are skipped by their timestamps, so that a reconnect neither loses nor repeats
 * one.
 */
final class PodLogs implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PodLogs.class);

  /** How many times, 250 ms apart, a cleanly ended stream's pod is checked before reopening. */
  private static final int CLEAN_END_CHECKS = 20;

  private static final ScheduledExecutorService LATER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "syllabus-pod-logs");
            t.setDaemon(true);
            return t;
          });

  private final KubernetesClient client;
  private final String namespace;

  /** Told the Job's name whenever one of its pods' logs has a new line, or ends. */
  private final Consumer<String> onLine;

  private final Map<String, JobLog> jobs = new ConcurrentHashMap<>();

  PodLogs(KubernetesClient client, String namespace, Consumer<String> onLine) {
    this.client = client;
    this.namespace = namespace;
    this.onLine = onLine;
  }

  /** The log of a Job's pods, as read so far. */
  JobLog of(String job) {
    return jobs.computeIfAbsent(job, JobLog::new);
  }

  /** Stops following a Job's pods and forgets what was read. */
  void forget(String job) {
    JobLog gone = jobs.remove(job);
    if (gone != null) {
      gone.close();
    }
  }

  @Override
  public void close() {
    jobs.values().forEach(JobLog::close);
    jobs.clear();
  }

  /** What a Job's pods printed: the progress read from every line, in the order they came. */
  final class JobLog {
    private final String job;
    private final Map<String, Follower> pods = new ConcurrentHashMap<>();
    private final Map<String, String> lastLines = new ConcurrentHashMap<>();
    private Progress progress = Progress.NONE;
    private long lines;
    private String lastLine;

    JobLog(String job) {
      this.job = job;
    }

    synchronized Progress progress() {
      return progress;
    }

    synchronized long lines() {
      return lines;
    }

    /**
     * Follows a pod's container once it has started (its log exists); {@code running} says,
     * whenever its stream ends, whether the container may still write more.
     */
    void follow(String pod, String container, Predicate<String> running) {
      pods.computeIfAbsent(pod, p -> new Follower(this, p, container, running)).open();
    }

    private synchronized void read(String text) {
      for (String piece : text.split("\r")) {
        progress = progress.read(piece);
        if (!piece.isBlank()) {
          lastLine = piece.strip();
        }
      }
      lines++;
    }

    /**
     * The last line of a pod that is not followed (another rank than 0, once it failed), read once;
     * null when it printed nothing or its log cannot be read.
     */
    String lastLineOf(String pod, String container) {
      String known = lastLines.get(pod);
      if (known == null) {
        known = readLastLine(pod, container);
        lastLines.put(pod, known);
      }
      return known.isEmpty() ? null : known;
    }

    /**
     * Once a followed pod's container has ended: whether its log has been read to the end, reading
     * what is left with one plain request if its stream has not ended yet (a follow stream need not
     * end the moment its container does).
     */
    boolean readToEnd(String pod) {
      Follower follower = pods.get(pod);
      return follower != null && follower.readRest();
    }

    /** The last line the pods printed, for a failure's message; null before any. */
    synchronized String lastLine() {
      return lastLine;
    }

    void close() {
      pods.values().forEach(Follower::close);
      pods.clear();
    }
  }

  /** A container's log, asked for at once (a pod that has not started has no log to wait for). */
  private ContainerResource logOf(String pod, String container) {
    return client
        .pods()
        .inNamespace(namespace)
        .withName(pod)
        .inContainer(container)
        .withReadyWaitTimeout(0);
  }

  /** A line's time as {@code sinceTime} takes it: to the second, which it rounds down to. */
  private static String secondOf(Instant time) {
    return DateTimeFormatter.ISO_INSTANT.format(time.truncatedTo(ChronoUnit.SECONDS));
  }

  /** The last non-blank line of a pod's log (its last few lines read once), or "" if none. */
  private String readLastLine(String pod, String container) {
    String tail;
    try {
      tail = logOf(pod, container).tailingLines(5).getLog();
    } catch (KubernetesClientException e) {
      log.warn("cannot read the log of pod {}: {}", pod, e.getMessage());
      return "";
    }
    String last = "";
    for (String piece : tail == null ? new String[0] : tail.split("[\r\n]")) {
      if (!piece.isBlank()) {
        last = piece.strip();
      }
    }
    return last;
  }

  /** One pod's log stream, opened again after it breaks while the container still runs. */
  private final class Follower {
    private final JobLog owner;
    private final String pod;
    private final String container;
    private final Predicate<String> running;
    private LogWatch watch;
    private boolean closed;
    private boolean done;

    /** The timestamp of the last line read, and how many lines carried exactly that timestamp. */
    private Instant lastTime;

    private int linesAtLastTime;

    /** While skipping lines already read after a reconnect: how many at lastTime to skip. */
    private int skipAtLastTime;

    Follower(JobLog owner, String pod, String container, Predicate<String> running) {
      this.owner = owner;
      this.pod = pod;
      this.container = container;
      this.running = running;
    }

    /**
     * Stops the follow stream of a container that ended and reads the rest of its log, from the
     * last line read, with a request that does not follow; lines read already are skipped by their
     * timestamps as after a reconnect. Whether the log has been read to its end.
     */
    boolean readRest() {
      String since;
      synchronized (this) {
        if (done) {
          return true;
        }
        if (closed) {
          return false;
        }
        if (watch != null) {
          LogWatch following = watch;
          watch = null;
          following.close();
        }
        since = lastTime == null ? null : secondOf(lastTime);
        skipAtLastTime = linesAtLastTime;
      }
      String rest;
      try {
        var logs = logOf(pod, container).usingTimestamps();
        rest = since == null ? logs.getLog() : logs.sinceTime(since).getLog();
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          synchronized (this) {
            done = true; // the pod is gone, and its log with it
          }
          return true;
        }
        log.warn("cannot read the rest of the log of pod {}: {}", pod, e.getMessage());
        return false;
      }
      for (String raw : rest == null ? new String[0] : rest.split("\n")) {
        if (!raw.isEmpty()) {
          line(raw);
        }
      }
      synchronized (this) {
        done = true;
      }
      return true;
    }

    synchronized void open() {
      if (closed || done || watch != null) {
        return;
      }
      var logs = logOf(pod, container).usingTimestamps();
      LogWatch opened;
      try {
        if (lastTime == null) {
          opened = logs.watchLog(new Lines(this));
        } else {
          skipAtLastTime = linesAtLastTime;
          opened = logs.sinceTime(secondOf(lastTime)).watchLog(new Lines(this));
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          done = true; // the pod is gone, and its log with it
        } else {
          log.warn("cannot follow the log of pod {}: {}", pod, e.getMessage());
        }
        return;
      }
      watch = opened;
      opened.onClose().whenComplete((error, failure) -> ended(opened, error, 0));
    }

    /**
     * A follow stream ends when the container ends, or when it breaks. The informer may not show
     * the container's end yet when its stream ends: a clean end is taken as the end unless the pod
     * still runs a while later; a broken stream is opened again at once.
     */
    private void ended(LogWatch which, Throwable error, int checks) {
      synchronized (this) {
        if (watch != which || closed) {
          return;
        }
        if (error == null && !running.test(pod)) {
          watch = null;
          done = true;
          onLine.accept(owner.job);
          return;
        }
        if (error == null && checks < CLEAN_END_CHECKS) {
          LATER.schedule(() -> ended(which, null, checks + 1), 250, TimeUnit.MILLISECONDS);
          return;
        }
        watch = null;
      }
      log.info(
          "log stream of pod {} ended{}; following it again from {}",
          pod,
          error == null ? " while the pod still runs" : " (" + error.getMessage() + ")",
          lastTime);
      open();
      onLine.accept(owner.job);
    }

    /**
     * A line as the kubelet sends it with timestamps: {@code 2026-11-25T10:00:01.123456789Z text}.
     */
    void line(String raw) {
      int space = raw.indexOf(' ');
      Instant time = null;
      if (space > 0) {
        try {
          time = Instant.parse(raw.substring(0, space));
        } catch (DateTimeParseException e) {
          time = null;
        }
      }
      String text = time == null ? raw : raw.substring(space + 1);
      synchronized (this) {
        if (time != null && lastTime != null) {
          int order = time.compareTo(lastTime);
          if (order < 0) {
            return; // read before the stream broke
          }
          if (order == 0 && skipAtLastTime > 0) {
            skipAtLastTime--;
            return;
          }
        }
        skipAtLastTime = 0;
        if (time != null) {
          if (time.equals(lastTime)) {
            linesAtLastTime++;
          } else {
            lastTime = time;
            linesAtLastTime = 1;
          }
        }
      }
      owner.read(text);
      onLine.accept(owner.job);
    }

    synchronized void close() {
      closed = true;
      if (watch != null) {
        watch.close();
        watch = null;
      }
    }
  }

  /** Splits what a stream writes into lines; a partial last line waits for its end. */
  private static final class Lines extends OutputStream {
    private final Follower follower;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    Lines(Follower follower) {
      this.follower = follower;
    }

    @Override
    public void write(int b) {
      if (b == '\n') {
        flushLine();
      } else {
        pending.write(b);
      }
    }

    @Override
    public void write(byte[] bytes, int off, int len) {
      int start = off;
      for (int i = off; i < off + len; i++) {
        if (bytes[i] == '\n') {
          pending.write(bytes, start, i - start);
          flushLine();
          start = i + 1;
        }
      }
      pending.write(bytes, start, off + len - start);
    }

    private void flushLine() {
      String line = pending.toString(StandardCharsets.UTF_8);
      pending.reset();
      follower.line(line);
    }
  }
}
