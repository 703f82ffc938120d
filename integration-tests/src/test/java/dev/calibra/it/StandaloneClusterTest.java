package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.storage.LocalDirectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The calibration job submitted with spark-submit to a real standalone cluster on loopback (a
 * master and two one-core workers, executors in their own JVMs), in the parallel schedule: an
 * uninterrupted run; the same job again with one executor killed in the middle of calibration,
 * which must still end with a byte-identical artifact; and a third submission over the finished
 * work directory, which must calibrate nothing. The three run in this order on one cluster.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterTest {

  /** Built by spark-jobs' package phase, which mvn verify (bin/test) runs before these tests. */
  private static final Path APP_JAR = Path.of("..", "spark-jobs", "target",
      "spark-jobs-0.1.0-SNAPSHOT-app.jar").toAbsolutePath().normalize();
  private static final Path DIRECTORY = Path.of("target", "standalone-cluster").toAbsolutePath();
  private static final Path JOB = DIRECTORY.resolve("job");
  private static final long RUN_SECONDS = 240;

  private static StandaloneCluster cluster;
  private static byte[] uninterrupted;

  @BeforeAll
  static void startCluster() throws Exception {
    assertTrue(Files.isRegularFile(APP_JAR), APP_JAR + " is missing: build it with mvn package "
        + "(bin/test runs mvn verify, which does)");
    LocalDirectories.deleteRecursively(DIRECTORY);
    cluster = StandaloneCluster.start(DIRECTORY, 2, "1536m");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void anUninterruptedRunCalibratesEveryShardOnTheExecutors() throws Exception {
    Process submit = cluster.submit("run-1", submitArguments());
    assertFinished(submit, "run-1");

    JsonNode summary = summary();
    JsonNode calibrate = summary.path("stages").path("calibrate");
    assertEquals(2, calibrate.path("calibrated_shards").asInt(), summary.toString());
    assertTrue(summary.path("spark").path("master").asText().startsWith("spark://127.0.0.1:"));
    for (JsonNode shard : calibrate.path("shards")) {
      assertNotEquals("driver", shard.path("executor").asText(), "tasks run in executor JVMs");
      assertNotEquals(ProcessHandle.current().pid(), shard.path("pid").asLong());
    }
    uninterrupted = Files.readAllBytes(JOB.resolve("model.arrow"));
  }

  @Test
  @Order(2)
  void aRunThatLosesAnExecutorMidCalibrationWritesTheSameArtifact() throws Exception {
    LocalDirectories.deleteRecursively(JOB);
    Process submit = cluster.submit("run-2", submitArguments());
    long killed = killExecutorOfShard(1, submit);

    assertFinished(submit, "run-2");

    JsonNode shard = summary().path("stages").path("calibrate").path("shards").get(1);
    assertTrue(shard.path("attempt").asInt() >= 1, "shard 1 was retried: " + shard);
    assertNotEquals(killed, shard.path("pid").asLong());
    assertArrayEquals(uninterrupted, Files.readAllBytes(JOB.resolve("model.arrow")),
        "the artifact of the run that lost an executor differs from the uninterrupted one");
  }

  @Test
  @Order(3)
  void aSecondSubmissionOverTheFinishedWorkDirectoryCalibratesNothing() throws Exception {
    Process submit = cluster.submit("run-3", submitArguments());
    assertFinished(submit, "run-3");

    JsonNode summary = summary();
    JsonNode stages = summary.path("stages");
    assertEquals(0, stages.path("calibrate").path("calibrated_shards").asInt(), summary.toString());
    assertEquals(2, stages.path("calibrate").path("skipped_shards").asInt());
    assertTrue(stages.path("capture").path("skipped").asBoolean());
    assertTrue(stages.path("pack").path("skipped").asBoolean());
    assertArrayEquals(uninterrupted, Files.readAllBytes(JOB.resolve("model.arrow")));
  }

  /**
   * The spark-submit arguments: one-core executors using one CPU thread each, all registered
   * before the job starts (so that the plan sees both), then the job's own arguments.
   */
  private static List<String> submitArguments() {
    List<String> arguments = new ArrayList<>(List.of(
        "--class", "dev.calibra.jobs.spark.CalibrateJobMain",
        "--conf", "spark.executor.cores=1",
        "--conf", "spark.cores.max=2",
        "--conf", "spark.executor.memory=1g",
        "--conf", "spark.executor.extraJavaOptions=-Dcalibra.cpu.threads=1",
        "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
        "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=60s",
        "--conf", "spark.ui.enabled=false",
        APP_JAR.toString()));
    arguments.addAll(List.of(StoriesJobArgs.of(JOB, "--schedule", "parallel", "--slots", "2")));
    return arguments;
  }

  /**
   * Waits for shard {@code shard}'s first progress event, whose writer is the executor running
   * it, and kills that executor JVM (SIGKILL, as a lost machine would); returns its pid.
   */
  private static long killExecutorOfShard(int shard, Process submit) throws Exception {
    Path progress = JOB.resolve("work").resolve("progress");
    String prefix = String.format("shard-%05d-window-", shard);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RUN_SECONDS);
    while (System.nanoTime() < deadline && submit.isAlive()) {
      Path event = firstMatching(progress, prefix);
      if (event != null) {
        JsonNode json = SharedData.json(event);
        long pid = json.path("pid").asLong();
        assertEquals(0, json.path("attempt").asInt(), json.toString());
        assertTrue(cluster.owns(pid), "pid " + pid + " of " + event + " is no executor of ours");
        ProcessHandle executor = ProcessHandle.of(pid).orElseThrow();
        executor.destroyForcibly();
        executor.onExit().get(30, TimeUnit.SECONDS);
        return pid;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("shard " + shard + " never reported progress:\n"
        + cluster.logTail("run-2"));
  }

  private static Path firstMatching(Path directory, String prefix) throws IOException {
    if (!Files.isDirectory(directory)) {
      return null;
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(p -> p.getFileName().toString().startsWith(prefix))
          .filter(p -> p.getFileName().toString().endsWith(".json")).findFirst().orElse(null);
    }
  }

  private static void assertFinished(Process submit, String name) throws Exception {
    boolean done = submit.waitFor(RUN_SECONDS, TimeUnit.SECONDS);
    if (!done) {
      submit.destroyForcibly();
    }
    assertTrue(done, name + " did not finish within " + RUN_SECONDS + " s:\n"
        + cluster.logTail(name));
    assertEquals(0, submit.exitValue(), name + " failed:\n" + cluster.logTail(name));
  }

  private static JsonNode summary() {
    return SharedData.json(JOB.resolve("summary.json"));
  }

}
