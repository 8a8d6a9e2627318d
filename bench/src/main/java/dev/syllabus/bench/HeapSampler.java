package dev.syllabus.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples this JVM's heap once a second: the most it used (garbage included), and the most that was
 * still in use right after a collection (what the worker keeps).
 */
final class HeapSampler implements AutoCloseable {
  private final List<MemoryPoolMXBean> pools =
      ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == MemoryType.HEAP)
          .toList();
  private final AtomicLong peakUsed = new AtomicLong();
  private final AtomicLong peakAfterCollection = new AtomicLong();
  private final AtomicLong peakResident = new AtomicLong();
  private final Thread sampler;
  private volatile boolean stopped;

  HeapSampler() {
    sampler = new Thread(this::sample, "bench-heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  private void sample() {
    while (!stopped) {
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      peakUsed.accumulateAndGet(used, Math::max);
      long afterCollection = 0;
      for (MemoryPoolMXBean pool : pools) {
        if (pool.getCollectionUsage() != null) {
          afterCollection += pool.getCollectionUsage().getUsed();
        }
      }
      peakAfterCollection.accumulateAndGet(afterCollection, Math::max);
      peakResident.accumulateAndGet(residentBytes(), Math::max);
      try {
        Thread.sleep(1_000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** The most heap used in any sample, in MiB. */
  double peakUsedMb() {
    return peakUsed.get() / 1048576.0;
  }

  /** The most heap in use after a collection, in MiB. */
  double peakAfterCollectionMb() {
    return peakAfterCollection.get() / 1048576.0;
  }

  /** The process's most resident memory, in MiB; 0 where /proc does not tell it. */
  double peakResidentMb() {
    return peakResident.get() / 1048576.0;
  }

  /** The most threads this JVM had at once. */
  static int peakThreads() {
    return ManagementFactory.getThreadMXBean().getPeakThreadCount();
  }

  private static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }

  /** The heap's limit ({@code -Xmx}), in MiB. */
  static double maxMb() {
    return Runtime.getRuntime().maxMemory() / 1048576.0;
  }

  @Override
  public void close() {
    stopped = true;
    sampler.interrupt();
  }
}
