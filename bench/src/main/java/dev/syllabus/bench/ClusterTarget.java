package dev.syllabus.bench;

import java.nio.file.Path;

/**
 * Where the Kubernetes measurements run: the testbed bench starts or the cluster of {@code
 * --kubeconfig}.
 *
 * @param kubeconfig the worker's kubeconfig (the bench's observer uses it too)
 * @param namespace where the phases run
 * @param artifacts the folder the artifact claim's volume is, as this machine sees it
 * @param auditLog the API server's audit log, or null when it cannot be read
 * @param description what the cluster is, for the report
 * @param secondsPerStep how long a trainer's step takes there, for the compressed week
 */
record ClusterTarget(
    Path kubeconfig,
    String namespace,
    Path artifacts,
    Path auditLog,
    String description,
    double secondsPerStep) {}
