package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The calibration job with everything on HDFS (a real in-process MiniDFSCluster): the model and
 * its token ids read from hdfs://, the work directory and the artifact written there, then
 * {@code calibra evaluate} reading the artifact back from hdfs:// alone.
 */
class HdfsSparkJobTest {

  private static MiniDFSCluster cluster;
  private static FileSystem hdfs;

  @TempDir
  Path local;

  @BeforeAll
  static void startHdfs() throws IOException {
    File base = new File("target/minidfs-job").getAbsoluteFile();
    System.setProperty("test.build.data", base.getPath());
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getPath());
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    hdfs = cluster.getFileSystem();
    Path model = SharedData.model("stories260K");
    for (String file : new String[] {"config.json", "model.safetensors", "sequences.json"}) {
      hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(model.resolve(file).toUri()),
          new org.apache.hadoop.fs.Path("/models/stories260K/" + file));
    }
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown();
    }
  }

  @Test
  void theJobReadsAndWritesHdfsAndItsArtifactEvaluatesFromThere() throws Exception {
    String root = hdfs.getUri() + "/";
    String sequences = root + "models/stories260K/sequences.json";
    String artifact = root + "out/model.arrow";
    String[] job = {"calibrate", "--model", root + "models/stories260K",
        "--calib-tokens", sequences + "#calibration",
        "--calib-samples", Integer.toString(StoriesJobArgs.SAMPLES),
        "--eval-tokens", sequences + "#evaluation", "--backend", "cpu", "--output", artifact,
        "--work-dir", root + "work/stories", "--summary", local.resolve("summary.json").toString(),
        "--schedule", "sequential", "--bits", "3", "--group", "32", "--epochs", "1",
        "--batch-size", "2", "--e2e-epochs", "1"};

    CliRun.succeeding(job);
    JsonNode summary = SharedData.json(local.resolve("summary.json"));
    assertEquals(2, summary.path("stages").path("calibrate").path("calibrated_shards").asInt());
    assertTrue(hdfs.exists(new org.apache.hadoop.fs.Path("/out/model.arrow")));
    assertTrue(hdfs.exists(new org.apache.hadoop.fs.Path("/work/stories/capture")),
        "activations between stages live in the HDFS work directory");
    assertTrue(hdfs.exists(new org.apache.hadoop.fs.Path("/work/stories/parts/end-to-end.arrow")),
        "the end-to-end pass's part, which the artifact was merged from");
    byte[] first = read("/out/model.arrow");

    double perplexity = summary.path("perplexity").path("quantized").asDouble();
    double evaluated = CliRun.succeeding("evaluate", "--artifact", artifact, "--eval-tokens",
        sequences + "#evaluation").printedPerplexity();
    assertEquals(perplexity, evaluated, 1e-9 * perplexity);

    // Submitted again over the same HDFS work directory: nothing is calibrated, nothing changes.
    CliRun.succeeding(job);
    JsonNode second = SharedData.json(local.resolve("summary.json"));
    assertEquals(0, second.path("stages").path("calibrate").path("calibrated_shards").asInt());
    assertTrue(second.path("stages").path("end_to_end").path("skipped").asBoolean());
    assertArrayEquals(first, read("/out/model.arrow"));
  }

  private static byte[] read(String path) throws IOException {
    try (InputStream in = hdfs.open(new org.apache.hadoop.fs.Path(path))) {
      return in.readAllBytes();
    }
  }
}
