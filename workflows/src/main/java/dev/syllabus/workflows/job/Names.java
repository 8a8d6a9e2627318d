package dev.syllabus.workflows.job;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The names derived from a run: workflow ids, Kubernetes object names and artifact folders. One
 * place, so that every backend and every retry derives the same names.
 */
public final class Names {

  /** Run ids start Service names too, so they follow DNS-1035: a letter first. */
  private static final Pattern RUN_ID = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");

  /** Run ids become part of Kubernetes names (at most 63 characters with the phase and attempt). */
  public static final int MAX_RUN_ID = 40;

  private Names() {}

  /** Null if {@code runId} can be used, else what is wrong with it. */
  public static String checkRunId(String runId) {
    if (runId.length() > MAX_RUN_ID) {
      return "run id '" + runId + "' is longer than " + MAX_RUN_ID + " characters";
    }
    if (!RUN_ID.matcher(runId).matches()) {
      return "run id '"
          + runId
          + "' must be lower-case letters, digits and '-', starting with a letter and ending with a"
          + " letter or digit";
    }
    return null;
  }

  /** The child workflow id of a phase: {@code <runId>.<index>-<phase>}. */
  public static String phaseWorkflowId(String runId, int index, String phase) {
    return runId + "." + index + "-" + phase;
  }

  /** {@code <runId>/<index>-<phase>}: the phase's folder relative to the artifact store root. */
  public static String phaseFolder(String runId, int index, String phase) {
    return runId + "/" + index + "-" + phase;
  }

  /** The job of one attempt: {@code <runId>-<index>-<phase>-<attempt>}, kept a valid DNS label. */
  public static String jobName(String runId, int index, String phase, int attempt) {
    return dnsLabel(runId + "-" + index + "-" + phase + "-" + attempt);
  }

  /**
   * {@code name} if it is at most 63 characters, else its first characters and a short hash of the
   * whole, so that long names stay distinct and stable.
   */
  public static String dnsLabel(String name) {
    if (name.length() <= 63) {
      return name;
    }
    String hash = sha256(name).substring(0, 8);
    String head = name.substring(0, 63 - hash.length() - 1).replaceAll("-+$", "");
    return head + "-" + hash;
  }

  static String sha256(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
