package dev.syllabus.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * One engine's run of a chain of steps, as the bench's pod watcher saw it: when the engine was
 * asked to run the chain, and when each step's pod was first seen (created) and first seen {@code
 * Succeeded}. From these: each step-to-step gap (a step's pod Succeeded → the next step's pod
 * created) and the chain's overhead beyond its steps' own time.
 *
 * @param engine who ran the chain, for the report
 * @param submittedNanos when the chain was submitted ({@link System#nanoTime})
 * @param pods the steps' pods, in the order they were created
 * @param stepSeconds how long each step's own work takes
 */
record StepChain(String engine, long submittedNanos, List<StepPod> pods, double stepSeconds) {

  /** One step's pod: when the watcher first saw it, and first saw it Succeeded (nanoTime). */
  record StepPod(String name, long createdNanos, long succeededNanos) {
    StepPod {
      if (succeededNanos < createdNanos) {
        throw new IllegalArgumentException(
            "pod " + name + " was seen Succeeded before it was seen created");
      }
    }

    /** From created to Succeeded, in seconds: the step's time as the cluster shows it. */
    double seconds() {
      return (succeededNanos - createdNanos) / 1e9;
    }
  }

  StepChain {
    if (pods.isEmpty()) {
      throw new IllegalArgumentException(engine + ": a chain of no pods");
    }
    List<StepPod> ordered = new ArrayList<>(pods);
    ordered.sort(Comparator.comparingLong(StepPod::createdNanos));
    pods = List.copyOf(ordered);
  }

  /** Each step-to-step gap in milliseconds, in chain order: one fewer than there are pods. */
  List<Double> gapsMillis() {
    List<Double> gaps = new ArrayList<>();
    for (int i = 1; i < pods.size(); i++) {
      gaps.add((pods.get(i).createdNanos() - pods.get(i - 1).succeededNanos()) / 1e6);
    }
    return gaps;
  }

  /**
   * Each gap split at a moment between its two pods (for a Job's pod, when its Job was seen
   * Complete), in milliseconds: {@code [Succeeded → middle, middle → next created]} per gap, for
   * the gaps whose previous pod has a moment in {@code middleByPod} (keyed by pod name).
   */
  List<double[]> gapsSplitAt(Map<String, Long> middleByPod) {
    List<double[]> parts = new ArrayList<>();
    for (int i = 1; i < pods.size(); i++) {
      StepPod previous = pods.get(i - 1);
      Long middle = middleByPod.get(previous.name());
      if (middle != null) {
        parts.add(
            new double[] {
              (middle - previous.succeededNanos()) / 1e6,
              (pods.get(i).createdNanos() - middle) / 1e6
            });
      }
    }
    return parts;
  }

  /** Submitted → the first step's pod created, in milliseconds. */
  double firstStepMillis() {
    return (pods.get(0).createdNanos() - submittedNanos) / 1e6;
  }

  /** Submitted → the last step's pod Succeeded, in seconds. */
  double wallSeconds() {
    return (pods.get(pods.size() - 1).succeededNanos() - submittedNanos) / 1e9;
  }

  /** The chain's time beyond its steps' own time ({@code steps × stepSeconds}), in seconds. */
  double overheadSeconds() {
    return wallSeconds() - pods.size() * stepSeconds;
  }

  /** The steps' pods' times (created → Succeeded), in seconds, sorted. */
  List<Double> podSecondsSorted() {
    List<Double> seconds = new ArrayList<>(pods.stream().map(StepPod::seconds).toList());
    seconds.sort(null);
    return seconds;
  }
}
