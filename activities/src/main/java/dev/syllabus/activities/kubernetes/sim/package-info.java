/**
 * {@link dev.syllabus.activities.kubernetes.sim.SimulatedCluster}: a Kubernetes cluster for tests
 * and for {@code syllabus bench}, fabric8's CRUD mock API server plus what the missing controllers
 * and the one GPU node would do. Never used by a worker against a real cluster.
 *
 * <h2>As a real cluster does it</h2>
 *
 * <ul>
 *   <li>Jobs (batch/v1, Kubernetes 1.31+): pods named {@code <job>-<5 chars>} with the template's
 *       labels plus {@code batch.kubernetes.io/controller-uid}, {@code
 *       batch.kubernetes.io/job-name}, {@code controller-uid}, {@code job-name}, a controller owner
 *       reference and the {@code batch.kubernetes.io/job-tracking} finalizer (so a deleted pod
 *       stays Terminating until its container has stopped); {@code status.active}, {@code ready},
 *       {@code terminating}, {@code succeeded}, {@code failed} (0s omitted as the API does), {@code
 *       startTime}, {@code completionTime}, {@code uncountedTerminatedPods: {}}; {@code
 *       SuccessCriteriaMet} then {@code Complete}, {@code FailureTarget} then {@code Failed}
 *       ({@code BackoffLimitExceeded}, "Job has reached the specified backoff limit"); {@code
 *       Suspended} True {@code JobSuspended} / False {@code JobResumed} (resuming resets {@code
 *       startTime}); restarts count toward {@code backoffLimit} under {@code OnFailure}; a
 *       terminating pod is replaced at once ({@code podReplacementPolicy: TerminatingOrFailed}).
 *   <li>Scheduling against {@code nvidia.com/gpu} (requests, else limits), oldest first, with the
 *       scheduler's {@code Unschedulable} message; a missing PersistentVolumeClaim is unschedulable
 *       too. The namespace and a bound PVC {@code syllabus-artifacts} exist from the start.
 *   <li>The kubelet: {@code ContainerCreating}, {@code ErrImagePull}/{@code ImagePullBackOff}
 *       alternating, {@code InvalidImageName}, {@code CreateContainerConfigError} ({@code secret
 *       "x" not found}, {@code couldn't find key k in Secret ns/x}, ConfigMaps alike), a missing
 *       ConfigMap or Secret volume keeps the pod {@code ContainerCreating}; running, ready,
 *       terminated {@code Completed}/{@code Error}/{@code OOMKilled}, {@code CrashLoopBackOff} with
 *       the kubelet's back-off message and a growing {@code restartCount}; SIGTERM on deletion and
 *       SIGKILL (137) after the grace period; never-started containers of a deleted pod end {@code
 *       ContainerStatusUnknown}; pod phase, the five pod conditions with stable transition times,
 *       {@code podIP}, {@code hostIP}, {@code startTime}, {@code qosClass}; the API server's pod
 *       defaults on controller-made pods.
 *   <li>Pod logs: {@code follow}, {@code timestamps} (fixed-width RFC3339Nano), {@code sinceTime}
 *       (whole seconds, so a reconnecting client gets its last second again), {@code sinceSeconds},
 *       {@code tailLines}, {@code limitBytes}, {@code container}, {@code previous}; the API's
 *       refusals ({@code is waiting to start: ContainerCreating}, {@code image can't be pulled}, a
 *       container name required for multi-container pods, 404 for unknown pods). Lines are what the
 *       process wrote up to each {@code \n}; tqdm's {@code \r} redraws stay inside.
 *   <li>Deployments get a ReplicaSet {@code <name>-<pod-template-hash>}, pods {@code <rs>-<5
 *       chars>}, status and {@code Available}/{@code Progressing} conditions; Services get an
 *       EndpointSlice (placeholder when nothing is selected) with ready/serving/terminating.
 *   <li>Kueue v1beta1 Workloads ({@code job-<name>-<hash>}, owner, {@code kueue.x-k8s.io/job-uid}),
 *       {@code QuotaReserved}/{@code Admitted}, the flavor assigner's two {@code Pending} messages,
 *       eviction {@code InactiveWorkload} on {@code spec.active: false} (Job suspended, start time
 *       cleared), re-admission, {@code Finished}.
 *   <li>Garbage collection of dependents, {@code Orphan} propagation honoured; status is a
 *       subresource for Jobs, Deployments, ReplicaSets and Workloads (writes to the object keep
 *       it); server-side apply (create or merge); 422 {@code Invalid} for bad names and labels;
 *       {@code generateName}; PATCH answers 200; watches get MODIFIED for every status change.
 * </ul>
 *
 * <h2>Simplified</h2>
 *
 * <ul>
 *   <li>Time is compressed: container creation 20 ms, image pull back-off 100 ms, crash back-off
 *       100 ms doubling, grace period 300 ms, server start 200 ms (the messages still say 10s).
 *   <li>One node; only GPUs are scheduled (CPU and memory always fit); no taints, affinity,
 *       priorities or preemption. Kueue has one ClusterQueue whose GPU quota is the node's, every
 *       queue name exists, no LocalQueue or ClusterQueue objects, no other resources in quota.
 *   <li>Pods without finalizers vanish at once when deleted (the mock server has no graceful
 *       deletion); their programs still get SIGTERM. {@code Foreground} deletion acts like {@code
 *       Background}. No Events are written.
 *   <li>The job controller does not back off before recreating a failed pod; {@code
 *       ttlSecondsAfterFinished}, {@code activeDeadlineSeconds}, Indexed Jobs, pod failure and
 *       success policies are ignored. The API server does not default Job specs, add the Job
 *       selector, or enforce immutable fields (a Job's template can be changed).
 *   <li>Pods that end while their Job is suspended are not counted, unless {@code
 *       suspendCountsStoppedPods(true)}: a real 1.31 cluster counts them, so a Job whose trainer
 *       exits 0 on the SIGTERM of a suspension completes.
 *   <li>Deployments roll out all at once; no {@code maxSurge}, no {@code minReadySeconds}; the
 *       legacy Endpoints object is not made; Services get no cluster IP.
 *   <li>Watches start with ADDED for every selected object whatever {@code resourceVersion} says
 *       (as the mock server does); no bookmarks. Server-side apply has no field managers and no
 *       conflicts; strategic merge patches are applied as merge patches.
 *   <li>Non-main containers of a pod serve; init containers complete at once without logs.
 * </ul>
 */
package dev.syllabus.activities.kubernetes.sim;
