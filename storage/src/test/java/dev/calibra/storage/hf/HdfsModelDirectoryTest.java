package dev.calibra.storage.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.SharedData;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * stories260K copied into a real in-process HDFS and read through hdfs://: the positional-read
 * path must give exactly what the memory-mapped local path gives.
 */
class HdfsModelDirectoryTest {

  private static final Path STORIES = SharedData.model("stories260K");

  private static MiniDFSCluster cluster;
  private static Configuration conf;
  private static String hdfsModel;

  @BeforeAll
  static void startHdfs() throws IOException {
    // Keep the cluster's name and data directories under target/, not in /tmp or the module.
    File base = new File("target/minidfs").getAbsoluteFile();
    System.setProperty("test.build.data", base.getPath());
    conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getPath());
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    FileSystem hdfs = cluster.getFileSystem();
    org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path("/models/stories260K");
    hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(STORIES.toUri()), target);
    hdfsModel = cluster.getURI() + "/models/stories260K";
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown();
    }
  }

  @Test
  void sameTensorsAsFromTheLocalFile() throws IOException {
    CpuBackend backend = new CpuBackend();
    try (ModelDirectory remote = ModelDirectory.open(hdfsModel, conf);
        ModelDirectory local = ModelDirectory.open(STORIES.toString())) {
      FileLocation weights = remote.checkpoint().fileOf(HfTensorNames.EMBEDDING).location();
      assertTrue(weights.toString().startsWith("hdfs://"), weights.toString());
      assertFalse(weights.localFile().isPresent());
      assertEquals(local.config(), remote.config());
      for (String name : local.checkpoint().tensorNames()) {
        assertArrayEquals(local.checkpoint().readFloats(name), remote.checkpoint().readFloats(name),
            name);
      }
      BlockWeights remoteBlock = remote.weights().block(2, backend);
      BlockWeights localBlock = local.weights().block(2, backend);
      for (Linear linear : Linear.values()) {
        assertArrayEquals(backend.download(localBlock.weight(linear)),
            backend.download(remoteBlock.weight(linear)), linear.name());
      }
    }
  }

  @Test
  void tokenIdsFromHdfs() throws IOException {
    List<int[]> remote = TokenIdFiles.read(hdfsModel + "/sequences.json", "evaluation", conf);
    List<int[]> local = TokenIdFiles.read(STORIES.resolve("sequences.json").toString(),
        "evaluation");
    assertEquals(local.size(), remote.size());
    for (int i = 0; i < local.size(); i++) {
      assertArrayEquals(local.get(i), remote.get(i));
    }
  }
}
