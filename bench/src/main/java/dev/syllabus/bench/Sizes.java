package dev.syllabus.bench;

/**
 * How much of each measurement: the full run, or the reduced one of {@code --quick} (under two
 * minutes on two cores).
 */
record Sizes(
    int handoffPhases,
    int scaleRuns,
    int longPhases,
    int weekDays,
    int kubernetesHandoffPhases,
    int pauses) {

  static final Sizes FULL = new Sizes(201, 1000, 2000, 7, 21, 20);
  static final Sizes QUICK = new Sizes(41, 40, 100, 1, 6, 3);
}
