package dev.syllabus.testbed;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One container as a local process, the way a kubelet runs it: its output goes to a log file in the
 * CRI format the API's {@code pods/{name}/log} serves (through kwok), SIGTERM to the program on
 * {@link #terminate}, SIGKILL to everything it started when the grace period is over, and a kill
 * for memory ({@code OOMKilled}, exit 137) when the processes' resident memory passes the
 * container's limit.
 */
final class ContainerRun {
  private static final Logger log = LoggerFactory.getLogger(ContainerRun.class);
  private static final DateTimeFormatter CRI_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** How the program ended. */
  record Exit(int code, String reason) {}

  private final String pod;
  private final Process process;
  private final BufferedWriter logFile;
  private final ScheduledFuture<?> memoryWatch;
  private volatile boolean oomKilled;
  private volatile boolean terminating;

  private ContainerRun(
      String pod, Process process, BufferedWriter logFile, ScheduledFuture<?> watch) {
    this.pod = pod;
    this.process = process;
    this.logFile = logFile;
    this.memoryWatch = watch;
  }

  /**
   * Starts the program in a session of its own, so that everything it starts can be killed with it.
   *
   * @param onLine every line of output, as it comes (for readiness)
   * @param onExit called once, when the program has exited and its output is in the log
   */
  static ContainerRun start(
      String pod,
      PodLaunch launch,
      Map<String, String> nodeEnv,
      Path logPath,
      ScheduledExecutorService clock,
      Consumer<String> onLine,
      Consumer<Exit> onExit)
      throws IOException {
    Files.createDirectories(logPath.getParent());
    Files.createDirectories(launch.workingDir());
    BufferedWriter logFile = Files.newBufferedWriter(logPath, StandardCharsets.UTF_8);
    List<String> command = new ArrayList<>();
    command.add("setsid");
    command.addAll(launch.command());
    ProcessBuilder builder = new ProcessBuilder(command).directory(launch.workingDir().toFile());
    builder.environment().clear();
    builder.environment().putAll(nodeEnv);
    builder.environment().putAll(launch.env());
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      logFile.close();
      throw e;
    }
    process.getOutputStream().close();
    ContainerRun[] self = new ContainerRun[1];
    ScheduledFuture<?> watch =
        launch.memoryLimitBytes() <= 0
            ? null
            : clock.scheduleWithFixedDelay(
                () -> self[0].checkMemory(launch.memoryLimitBytes()),
                100,
                100,
                TimeUnit.MILLISECONDS);
    ContainerRun run = new ContainerRun(pod, process, logFile, watch);
    self[0] = run;
    Thread out = run.copy(process.getInputStream(), "stdout", onLine);
    Thread err = run.copy(process.getErrorStream(), "stderr", onLine);
    daemon(
        "exit-" + pod,
        () -> {
          int code = waitFor(process);
          run.killGroup();
          join(out);
          join(err);
          if (watch != null) {
            watch.cancel(false);
          }
          run.closeLog();
          onExit.accept(run.oomKilled ? new Exit(137, "OOMKilled") : new Exit(code, null));
        });
    return run;
  }

  /**
   * SIGTERM to the program (not to its children: a kubelet signals the container's first process).
   */
  void terminate(long gracePeriodSeconds, ScheduledExecutorService clock) {
    if (terminating) {
      return;
    }
    terminating = true;
    log.info("{}: SIGTERM, {} s to exit", pod, gracePeriodSeconds);
    signal("TERM", Long.toString(process.pid()));
    clock.schedule(
        () -> {
          if (process.isAlive()) {
            log.info("{}: grace period over, SIGKILL", pod);
            killGroup();
          }
        },
        Math.max(0, gracePeriodSeconds),
        TimeUnit.SECONDS);
  }

  /** SIGKILL to the program and everything it started. */
  void kill() {
    killGroup();
  }

  boolean alive() {
    return process.isAlive();
  }

  private void killGroup() {
    signal("KILL", "-" + process.pid());
  }

  private static void signal(String signal, String target) {
    try {
      new ProcessBuilder("kill", "-" + signal, "--", target)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The kernel's OOM killer, for the container's cgroup: the session's resident memory. */
  private void checkMemory(long limitBytes) {
    if (!process.isAlive() || oomKilled) {
      return;
    }
    long rss = rssBytes(process.toHandle());
    for (ProcessHandle child : process.descendants().toList()) {
      rss += rssBytes(child);
    }
    if (rss > limitBytes) {
      oomKilled = true;
      log.info("{}: {} bytes resident, over its limit of {}: OOMKilled", pod, rss, limitBytes);
      killGroup();
    }
  }

  private static long rssBytes(ProcessHandle p) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // gone
    }
    return 0;
  }

  /** Copies one stream into the log, a CRI record per line. */
  private Thread copy(InputStream in, String stream, Consumer<String> onLine) {
    return daemon(
        stream + "-" + pod,
        () -> {
          StringBuilder line = new StringBuilder();
          var decoder = new java.io.InputStreamReader(in, StandardCharsets.UTF_8);
          char[] chars = new char[8192];
          try {
            int n;
            while ((n = decoder.read(chars)) >= 0) {
              for (int i = 0; i < n; i++) {
                char c = chars[i];
                if (c == '\n') {
                  record(stream, line.toString(), onLine);
                  line.setLength(0);
                } else {
                  line.append(c);
                }
              }
            }
          } catch (IOException e) {
            // the process is gone
          }
          if (line.length() > 0) {
            record(stream, line.toString(), onLine);
          }
        });
  }

  private static Thread daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void record(String stream, String line, Consumer<String> onLine) {
    synchronized (logFile) {
      try {
        logFile.write(CRI_TIME.format(Instant.now()) + " " + stream + " F " + line + "\n");
        logFile.flush();
      } catch (IOException e) {
        log.warn("{}: cannot write its log: {}", pod, e.getMessage());
      }
    }
    onLine.accept(line);
  }

  private void closeLog() {
    synchronized (logFile) {
      try {
        logFile.close();
      } catch (IOException e) {
        log.warn("{}: cannot close its log: {}", pod, e.getMessage());
      }
    }
  }

  private static int waitFor(Process process) {
    while (true) {
      try {
        return process.waitFor();
      } catch (InterruptedException e) {
        // keep waiting: the exit must be reported
      }
    }
  }

  private static void join(Thread t) {
    try {
      t.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
