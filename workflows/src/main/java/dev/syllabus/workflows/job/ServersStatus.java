package dev.syllabus.workflows.job;

/**
 * Whether a phase's servers (its Deployments and Services: vLLM, rewards) can take requests.
 *
 * @param ready every server is available and its Service has ready endpoints
 * @param waitingFor what is not ready yet, for the status and the Web UI, or null when ready
 * @param permanent the servers cannot come up (a bad image, a missing Secret); no use waiting
 */
public record ServersStatus(boolean ready, String waitingFor, boolean permanent) {

  public static final ServersStatus READY = new ServersStatus(true, null, false);
}
