package dev.syllabus.testbed;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The images the testbed's nodes can "pull", and what running each means on this machine. An image
 * whose programs exist here (a Python image, busybox) runs the container's own command; an image of
 * a program that cannot run here (Axolotl, verifiers, vLLM, a rewards server: GPUs, CUDA, gigabytes
 * of weights) runs a stand-in that prints and writes what that program would ({@code standin.py}).
 * Any other image cannot be pulled: the pod shows {@code ImagePullBackOff}, as on a cluster whose
 * registry does not have it.
 */
final class Images {
  private Images() {}

  /** An image reference as the container runtime parses it (lower-case repository, tag, digest). */
  private static final Pattern REFERENCE =
      Pattern.compile(
          "^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]|__|-*[a-z0-9]+)*)*"
              + "(:[\\w][\\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$");

  /** How a container of an image runs here. */
  enum Run {
    /** The container's command and arguments, as they are (paths mapped onto local folders). */
    COMMAND,
    /** The stand-in trainer for the job's trainer, the stand-in server for any other role. */
    STAND_IN,
    /** The image is not in the registry. */
    CANNOT_PULL,
    /** The reference cannot be parsed. */
    INVALID
  }

  /** Repositories whose programs this machine has. */
  private static final List<String> RUNNABLE = List.of("python", "busybox");

  /** Repositories of programs that run as stand-ins. */
  private static final List<String> STAND_INS =
      List.of(
          "axolotlai/axolotl",
          "ghcr.io/example/axolotl",
          "ghcr.io/example/verifiers",
          "ghcr.io/example/kernel-rewards",
          "vllm/vllm-openai");

  static Run of(String image) {
    if (image == null || !REFERENCE.matcher(image).matches()) {
      return Run.INVALID;
    }
    String repository = repository(image);
    if (RUNNABLE.contains(repository)) {
      return Run.COMMAND;
    }
    if (STAND_INS.contains(repository)) {
      return Run.STAND_IN;
    }
    return Run.CANNOT_PULL;
  }

  /**
   * The repository of an image reference, without tag or digest and without Docker Hub's implied
   * {@code docker.io/library/}: {@code python:3.11-slim} and {@code
   * docker.io/library/python@sha256:…} are both {@code python}.
   */
  static String repository(String image) {
    String name = image;
    int at = name.indexOf('@');
    if (at >= 0) {
      name = name.substring(0, at);
    }
    int slash = name.lastIndexOf('/');
    int colon = name.lastIndexOf(':');
    if (colon > slash) {
      name = name.substring(0, colon);
    }
    for (String prefix : List.of("docker.io/library/", "docker.io/", "library/")) {
      if (name.startsWith(prefix)) {
        name = name.substring(prefix.length());
        break;
      }
    }
    return name;
  }
}
