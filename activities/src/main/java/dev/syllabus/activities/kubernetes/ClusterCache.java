package dev.syllabus.activities.kubernetes;

import dev.syllabus.activities.Renderer;
import io.fabric8.kubernetes.api.model.APIGroup;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the worker knows of the cluster, kept up to date by informers: one list and one watch per
 * kind for the whole worker, however many phases run and however long. Only Syllabus' own objects
 * are watched (label {@code app.kubernetes.io/managed-by: syllabus}; EndpointSlices carry their
 * Service's labels). Every change wakes those waiting in {@link #awaitChange}; a change of a Job,
 * its pods or its Workload also wakes those waiting on that Job alone ({@link #awaitJobChange}),
 * which is how each phase's follow activity waits without waking for every other phase.
 */
final class ClusterCache implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterCache.class);

  /**
   * Kueue's Workloads in the newest version the cluster serves: v1beta2 where Kueue has it (0.15
   * on), v1beta1 before. Kueue 0.17 stores v1beta2 and serves v1beta1 without a conversion webhook,
   * so a patch through v1beta1 fails its validation ("no such key: priorityClassSource").
   */
  static ResourceDefinitionContext kueueWorkloads(KubernetesClient client) {
    String version = "v1beta1";
    try {
      APIGroup group = client.getApiGroup("kueue.x-k8s.io");
      if (group != null
          && group.getVersions().stream().anyMatch(v -> "v1beta2".equals(v.getVersion()))) {
        version = "v1beta2";
      }
    } catch (KubernetesClientException e) {
      log.warn("cannot tell which versions of Kueue's API the cluster serves: {}", e.getMessage());
    }
    return new ResourceDefinitionContext.Builder()
        .withGroup("kueue.x-k8s.io")
        .withVersion(version)
        .withPlural("workloads")
        .withKind("Workload")
        .withNamespaced(true)
        .build();
  }

  private final KubernetesClient client;
  private final String namespace;
  private final Object changed = new Object();
  private long version;
  private final JobChanges jobChanges = new JobChanges();

  /** The pods' index by the uid of the Job that owns them. */
  private static final String BY_OWNER = "owner";

  private final SharedIndexInformer<Job> jobs;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<Deployment> deployments;
  private final SharedIndexInformer<StatefulSet> statefulSets;
  private final SharedIndexInformer<EndpointSlice> endpointSlices;
  private volatile SharedIndexInformer<GenericKubernetesResource> workloads;
  private volatile ResourceDefinitionContext workloadResource;

  ClusterCache(KubernetesClient client, String namespace, long syncTimeoutMillis) {
    this.client = client;
    this.namespace = namespace;
    jobs =
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(namespace)
            .withLabel(Renderer.MANAGED_BY, "syllabus")
            .runnableInformer(0);
    pods =
        client
            .pods()
            .inNamespace(namespace)
            .withLabel(Renderer.MANAGED_BY, "syllabus")
            .runnableInformer(0);
    pods.addIndexers(Map.of(BY_OWNER, ClusterCache::ownerUids));
    deployments =
        client
            .apps()
            .deployments()
            .inNamespace(namespace)
            .withLabel(Renderer.MANAGED_BY, "syllabus")
            .runnableInformer(0);
    statefulSets =
        client
            .apps()
            .statefulSets()
            .inNamespace(namespace)
            .withLabel(Renderer.MANAGED_BY, "syllabus")
            .runnableInformer(0);
    endpointSlices =
        client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(namespace)
            .withLabel(Renderer.MANAGED_BY, "syllabus")
            .runnableInformer(0);
    startAll(List.of(jobs, pods, deployments, statefulSets, endpointSlices), syncTimeoutMillis);
  }

  /**
   * Starts the informers, all at once, and waits until each has listed what it watches: what {@code
   * start()} returns completes then.
   */
  private void startAll(List<SharedIndexInformer<? extends HasMetadata>> informers, long millis) {
    List<CompletableFuture<Void>> synced = new ArrayList<>();
    for (SharedIndexInformer<? extends HasMetadata> informer : informers) {
      informer.addEventHandler(new Wake(informer == jobs));
      synced.add(informer.start().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new))
          .get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      informers.forEach(SharedIndexInformer::stop);
      throw new IllegalStateException(
          "the cluster's objects could not be listed within " + millis / 1000 + " s");
    } catch (ExecutionException e) {
      informers.forEach(SharedIndexInformer::stop);
      if (e.getCause() instanceof KubernetesClientException k) {
        throw k;
      }
      throw new IllegalStateException("cannot watch the cluster: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing the cluster", e);
    }
  }

  /** Kueue Workloads, watched from the first phase that uses a queue (Kueue may not be there). */
  private SharedIndexInformer<GenericKubernetesResource> workloads() {
    SharedIndexInformer<GenericKubernetesResource> informer = workloads;
    if (informer == null) {
      synchronized (this) {
        if (workloads == null) {
          SharedIndexInformer<GenericKubernetesResource> started =
              client
                  .genericKubernetesResources(workloadResource())
                  .inNamespace(namespace)
                  .runnableInformer(0);
          startAll(List.of(started), 30_000);
          workloads = started;
        }
        informer = workloads;
      }
    }
    return informer;
  }

  /** Kueue's Workloads as this cluster serves them, asked once. */
  ResourceDefinitionContext workloadResource() {
    ResourceDefinitionContext resource = workloadResource;
    if (resource == null) {
      resource = kueueWorkloads(client);
      workloadResource = resource;
    }
    return resource;
  }

  /** A version that changes whenever anything watched changes (or {@link #wake} is called). */
  long version() {
    synchronized (changed) {
      return version;
    }
  }

  /** Waits until the version is no longer {@code seen}, or {@code millis} passed. */
  void awaitChange(long seen, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    synchronized (changed) {
      while (version == seen) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          return;
        }
        changed.wait(left);
      }
    }
  }

  /** Wakes those waiting for a change. */
  void wake() {
    synchronized (changed) {
      version++;
      changed.notifyAll();
    }
  }

  /** The version of one Job: changes with the Job, its pods, its Workload and its log's lines. */
  long jobVersion(String job) {
    return jobChanges.version(job);
  }

  /** Waits until the Job's version is no longer {@code seen}, or {@code millis} passed. */
  void awaitJobChange(String job, long seen, long millis) throws InterruptedException {
    jobChanges.await(job, seen, millis);
  }

  /** Wakes those waiting on one Job (a new line of its log), and those waiting for any change. */
  void wake(String job) {
    jobChanges.wake(job);
    wake();
  }

  /** The name of the Job that owns {@code object} (a pod, a Workload), or null. */
  static String owningJob(HasMetadata object) {
    List<OwnerReference> owners = object.getMetadata().getOwnerReferences();
    if (owners != null) {
      for (OwnerReference owner : owners) {
        if ("Job".equals(owner.getKind())) {
          return owner.getName();
        }
      }
    }
    return null;
  }

  private static List<String> ownerUids(HasMetadata object) {
    List<OwnerReference> owners = object.getMetadata().getOwnerReferences();
    if (owners == null) {
      return List.of();
    }
    List<String> uids = new ArrayList<>(owners.size());
    for (OwnerReference owner : owners) {
      uids.add(owner.getUid());
    }
    return uids;
  }

  Job job(String name) {
    return jobs.getStore().getByKey(namespace + "/" + name);
  }

  Deployment deployment(String name) {
    return deployments.getStore().getByKey(namespace + "/" + name);
  }

  StatefulSet statefulSet(String name) {
    return statefulSets.getStore().getByKey(namespace + "/" + name);
  }

  /** The Deployments and StatefulSets carrying all of {@code labels}: a phase's servers. */
  List<HasMetadata> servers(Map<String, String> labels) {
    List<HasMetadata> out = new ArrayList<>();
    for (Deployment d : deployments.getStore().list()) {
      if (carries(d, labels)) {
        out.add(d);
      }
    }
    for (StatefulSet s : statefulSets.getStore().list()) {
      if (carries(s, labels)) {
        out.add(s);
      }
    }
    return out;
  }

  /** The EndpointSlices carrying all of {@code labels} (slices carry their Service's labels). */
  List<EndpointSlice> endpointSlices(Map<String, String> labels) {
    List<EndpointSlice> out = new ArrayList<>();
    for (EndpointSlice slice : endpointSlices.getStore().list()) {
      if (carries(slice, labels)) {
        out.add(slice);
      }
    }
    return out;
  }

  private static boolean carries(HasMetadata object, Map<String, String> labels) {
    Map<String, String> own = object.getMetadata().getLabels();
    return own != null && own.entrySet().containsAll(labels.entrySet());
  }

  /** The pods a Job created, oldest first (from the index: not every pod of the namespace). */
  List<Pod> podsOf(Job job) {
    List<Pod> out =
        new ArrayList<>(pods.getIndexer().byIndex(BY_OWNER, job.getMetadata().getUid()));
    out.sort(Comparator.comparing(p -> p.getMetadata().getCreationTimestamp()));
    return out;
  }

  /** The pods carrying all of {@code labels}, oldest first. */
  List<Pod> pods(Map<String, String> labels) {
    List<Pod> out = new ArrayList<>();
    for (Pod pod : pods.getStore().list()) {
      Map<String, String> own = pod.getMetadata().getLabels();
      if (own != null && own.entrySet().containsAll(labels.entrySet())) {
        out.add(pod);
      }
    }
    out.sort(Comparator.comparing(p -> p.getMetadata().getCreationTimestamp()));
    return out;
  }

  Pod pod(String name) {
    return pods.getStore().getByKey(namespace + "/" + name);
  }

  /** The EndpointSlices of a Service. */
  List<EndpointSlice> endpointSlices(String service) {
    List<EndpointSlice> out = new ArrayList<>();
    for (EndpointSlice slice : endpointSlices.getStore().list()) {
      Map<String, String> labels = slice.getMetadata().getLabels();
      if (labels != null && service.equals(labels.get("kubernetes.io/service-name"))) {
        out.add(slice);
      }
    }
    return out;
  }

  /** The Kueue Workload that admits {@code job}, or null while Kueue has not made one. */
  GenericKubernetesResource workloadOf(Job job) {
    String uid = job.getMetadata().getUid();
    for (GenericKubernetesResource workload : workloads().getStore().list()) {
      if (ownedBy(workload, uid)) {
        return workload;
      }
    }
    return null;
  }

  private static boolean ownedBy(HasMetadata object, String uid) {
    List<OwnerReference> owners = object.getMetadata().getOwnerReferences();
    if (owners == null) {
      return false;
    }
    for (OwnerReference owner : owners) {
      if (Objects.equals(owner.getUid(), uid)) {
        return true;
      }
    }
    return false;
  }

  /** Waits until the Job of that name is gone from the cache (after a delete). */
  boolean awaitJobGone(String name, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (job(name) != null) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        return false;
      }
      awaitChange(version(), Math.min(left, 500));
    }
    return true;
  }

  @Override
  public void close() {
    List<SharedIndexInformer<?>> all =
        new ArrayList<>(List.of(jobs, pods, deployments, statefulSets, endpointSlices));
    if (workloads != null) {
      all.add(workloads);
    }
    List<CompletableFuture<Void>> stopped = new ArrayList<>();
    for (SharedIndexInformer<?> informer : all) {
      informer.stop();
      stopped.add(informer.stopped().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(stopped.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.debug("informers did not stop cleanly: {}", e.toString());
    }
  }

  /**
   * Any add, update or delete wakes the waiters, and those waiting on the Job it is or belongs to.
   */
  private final class Wake implements ResourceEventHandler<HasMetadata> {
    private final boolean ofJobs;

    Wake(boolean ofJobs) {
      this.ofJobs = ofJobs;
    }

    @Override
    public void onAdd(HasMetadata obj) {
      changed(obj);
    }

    @Override
    public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
      changed(newObj);
    }

    @Override
    public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
      if (ofJobs) {
        jobChanges.forget(obj.getMetadata().getName());
        wake();
      } else {
        changed(obj);
      }
    }

    private void changed(HasMetadata obj) {
      String job = ofJobs ? obj.getMetadata().getName() : owningJob(obj);
      if (job != null) {
        jobChanges.wake(job);
      }
      wake();
    }
  }
}
