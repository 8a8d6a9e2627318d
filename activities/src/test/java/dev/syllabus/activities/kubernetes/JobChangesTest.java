package dev.syllabus.activities.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JobChangesTest {

  @Test
  void aChangeOfOneJobLeavesTheOthersVersionAsItWas() {
    JobChanges changes = new JobChanges();
    long a = changes.version("job-a");
    long b = changes.version("job-b");

    changes.wake("job-a");

    assertNotEquals(a, changes.version("job-a"));
    assertEquals(b, changes.version("job-b"));
  }

  @Test
  void aChangeWakesTheFollowerWaitingOnThatJob() throws Exception {
    JobChanges changes = new JobChanges();
    long seen = changes.version("job-a");
    CompletableFuture<Long> woke =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                changes.await("job-a", seen, 120_000);
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
              return changes.version("job-a");
            });

    changes.wake("job-a");

    assertNotEquals(seen, woke.get(60, TimeUnit.SECONDS));
  }

  @Test
  void aDeletedJobIsForgotten() {
    JobChanges changes = new JobChanges();
    changes.wake("job-a");
    changes.wake("job-b");

    changes.forget("job-a");

    assertEquals(1, changes.size());
  }

  @Test
  void aPodBelongsToTheJobThatOwnsIt() {
    var pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("run-1-0-sft-a1-x7k2p")
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withKind("Job")
                    .withName("run-1-0-sft-a1")
                    .withUid("u-1")
                    .build())
            .endMetadata()
            .build();

    assertEquals("run-1-0-sft-a1", ClusterCache.owningJob(pod));
  }

  @Test
  void aServersPodBelongsToNoJob() {
    var pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("vllm-5d9c-abcde")
            .withOwnerReferences(
                new OwnerReferenceBuilder().withKind("ReplicaSet").withName("vllm-5d9c").build())
            .endMetadata()
            .build();

    assertNull(ClusterCache.owningJob(pod));
  }
}
