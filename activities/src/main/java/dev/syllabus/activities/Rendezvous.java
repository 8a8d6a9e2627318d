package dev.syllabus.activities;

import dev.syllabus.workflows.job.JobRef;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.recipe.WorkloadResources;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the pods of a trainer that spans several nodes find each other: its Job becomes an Indexed
 * Job with a pod per node, a headless Service gives each pod the stable DNS name {@code
 * <job>-<index>.<service>}, and every container learns the node count, its own rank (the pod's
 * completion index), rank 0's address and port, and the processes per node, under Syllabus's names
 * and under the {@code PET_*} names torchrun reads by itself.
 *
 * @param nodes pods, one per node
 * @param processesPerNode the GPUs of each node: one training process each
 * @param service the headless Service's name, the pods' {@code subdomain}
 * @param masterAddress rank 0's DNS name, {@code <job>-0.<service>}
 * @param port the port rank 0 listens on for the others
 */
record Rendezvous(int nodes, int processesPerNode, String service, String masterAddress, int port) {

  /** The annotation the Job controller puts the pod's index (its node rank) in. */
  static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

  /** The longest DNS label: a pod's host name, {@code <job>-<index>}, must fit it. */
  private static final int MAX_HOST_NAME = 63;

  /**
   * The rendezvous of a trainer asking for several nodes, or null when it runs on one (which
   * renders exactly as before).
   */
  static Rendezvous of(JobRef job, WorkloadResources trainer, FrameworkSettings settings) {
    if (trainer == null || !trainer.multiNode()) {
      return null;
    }
    if (trainer.gpu() == null) {
      throw new IllegalArgumentException(
          trainer.nodes() + " nodes need resources.train.gpu: the processes each node runs");
    }
    String lastHost = job.name() + "-" + (trainer.nodes() - 1);
    if (lastHost.length() > MAX_HOST_NAME) {
      throw new IllegalArgumentException(
          "the Job "
              + job.name()
              + " is too long a name for "
              + trainer.nodes()
              + " nodes: its pods' host names (<job>-<index>) must fit "
              + MAX_HOST_NAME
              + " characters; use a shorter run id or phase name");
    }
    String service = Names.dnsLabel(job.name() + "-nodes");
    return new Rendezvous(
        trainer.nodes(),
        trainer.gpu(),
        service,
        job.name() + "-0." + service,
        settings.rendezvousPort());
  }

  /**
   * One pod per node, all running at once, indexed so that each knows its rank; one failing rank
   * fails the Job at once (Syllabus starts a new attempt, which resumes from the latest
   * checkpoint).
   */
  void shape(Job job) {
    job.getSpec().setCompletionMode("Indexed");
    job.getSpec().setCompletions(nodes);
    job.getSpec().setParallelism(nodes);
    job.getSpec().setBackoffLimit(0);
    job.getSpec().getTemplate().getSpec().setSubdomain(service);
  }

  /**
   * The headless Service that gives the trainer's pods their DNS names. It selects this attempt's
   * trainer pods only, and publishes them before they are ready: ranks meet before any probe
   * passes.
   */
  Service headlessService(Map<String, String> labels, PodTemplateSpec trainerPod) {
    Map<String, String> selector = new LinkedHashMap<>();
    for (String key :
        List.of(
            Renderer.RUN_LABEL,
            Renderer.PHASE_INDEX_LABEL,
            Renderer.ATTEMPT_LABEL,
            Kubeconfigs.ROLE_LABEL)) {
      selector.put(key, trainerPod.getMetadata().getLabels().get(key));
    }
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(service)
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withClusterIP("None")
        .withSelector(selector)
        .withPublishNotReadyAddresses(true)
        .endSpec()
        .build();
  }

  /**
   * The settings every container of the trainer's pods gets, in an order where later ones may refer
   * to earlier ones as {@code $(NAME)}. {@code WORLD_SIZE}, {@code RANK} and {@code LOCAL_RANK} are
   * left to the launcher: they are per process, not per pod.
   */
  List<EnvVar> env() {
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar("SYLLABUS_NUM_NODES", Integer.toString(nodes), null));
    env.add(
        new EnvVarBuilder()
            .withName("SYLLABUS_NODE_RANK")
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.annotations['" + COMPLETION_INDEX + "']")
            .endFieldRef()
            .endValueFrom()
            .build());
    env.add(new EnvVar("SYLLABUS_NPROC_PER_NODE", Integer.toString(processesPerNode), null));
    env.add(new EnvVar("SYLLABUS_MASTER_ADDR", masterAddress, null));
    env.add(new EnvVar("SYLLABUS_MASTER_PORT", Integer.toString(port), null));
    // torchrun reads every option it is not given from PET_<OPTION>.
    env.add(new EnvVar("PET_NNODES", Integer.toString(nodes), null));
    env.add(new EnvVar("PET_NODE_RANK", "$(SYLLABUS_NODE_RANK)", null));
    env.add(new EnvVar("PET_NPROC_PER_NODE", Integer.toString(processesPerNode), null));
    env.add(new EnvVar("PET_MASTER_ADDR", masterAddress, null));
    env.add(new EnvVar("PET_MASTER_PORT", Integer.toString(port), null));
    // torch.distributed's env:// initialisation, for code that joins the group itself.
    env.add(new EnvVar("MASTER_ADDR", masterAddress, null));
    env.add(new EnvVar("MASTER_PORT", Integer.toString(port), null));
    return env;
  }
}
