package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.storage.FileLocation;
import java.io.File;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Writing, reading, merging and interrupted writes against a real in-process HDFS. */
class HdfsArtifactTest {

  private static MiniDFSCluster cluster;
  private static Configuration conf;
  private static FileSystem hdfs;

  private static final List<ArtifactTensor> TENSORS = List.of(
      SampleTensors.floats("model.embed_tokens.weight", -1, 16, 8),
      SampleTensors.uniform("model.layers.0.mlp.down_proj.weight", 0, 8, 172, 3, 32, true, 5),
      SampleTensors.vq("model.layers.0.mlp.up_proj.weight", 0, 12, 8, true, 5),
      SampleTensors.floats("model.norm.weight", -1, 8));

  @BeforeAll
  static void startHdfs() throws IOException {
    File base = new File("target/minidfs-artifact").getAbsoluteFile();
    System.setProperty("test.build.data", base.getPath());
    conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getPath());
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    hdfs = cluster.getFileSystem();
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown();
    }
  }

  @Test
  void writesAndReadsBackBitExact() throws IOException {
    FileLocation file = location("/artifacts/roundtrip/model.arrow");
    ArtifactWriter.write(file, SampleTensors.metadata(1), TENSORS.iterator(), false);
    assertEquals(List.of("model.arrow"), names("/artifacts/roundtrip"));
    try (ArtifactReader reader = ArtifactReader.open(file)) {
      assertTrue(reader.file().startsWith("hdfs://"), reader.file());
      assertEquals(SampleTensors.metadata(1), reader.metadata());
      for (ArtifactTensor tensor : TENSORS) {
        ArtifactRoundTripTest.assertSameTensor(tensor, reader.read(tensor.name()));
      }
    }
    assertThrows(FileAlreadyExistsException.class,
        () -> ArtifactWriter.write(file, SampleTensors.metadata(1), TENSORS.iterator(), false));
  }

  @Test
  void anInterruptedWriteLeavesNothingUnderTheFinalName() throws IOException {
    FileLocation file = location("/artifacts/interrupted/model.arrow");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ArtifactWriter.write(file, SampleTensors.metadata(1),
            InterruptedWrites.failingAfter(TENSORS.subList(0, 3)), false));
    assertEquals("simulated failure after 3 tensors", e.getMessage());
    assertFalse(hdfs.exists(new Path("/artifacts/interrupted/model.arrow")));
    assertEquals(List.of(), names("/artifacts/interrupted"), "temporary file deleted");
  }

  @Test
  void mergesPartsOnHdfs() throws IOException {
    FileLocation outside = location("/artifacts/parts/float.arrow");
    FileLocation block = location("/artifacts/parts/block-0.arrow");
    ArtifactWriter.write(outside, SampleTensors.metadata(1).asPart(PartRange.OUTSIDE_BLOCKS),
        List.of(TENSORS.get(0), TENSORS.get(3)).iterator(), false);
    ArtifactWriter.write(block, SampleTensors.metadata(1).asPart(PartRange.blocks(0, 0)),
        TENSORS.subList(1, 3).iterator(), false);
    FileLocation target = location("/artifacts/merged/model.arrow");
    ArtifactMerger.merge(List.of(block, outside), target, ArtifactMetadata.emptyObject(),
        ArtifactMetadata.emptyObject(), false);
    try (ArtifactReader reader = ArtifactReader.open(target)) {
      assertEquals(List.of("model.embed_tokens.weight", "model.norm.weight",
          "model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.up_proj.weight"),
          reader.entries().stream().map(ArtifactReader.Entry::name).toList());
      for (ArtifactTensor tensor : TENSORS) {
        ArtifactRoundTripTest.assertSameTensor(tensor, reader.read(tensor.name()));
      }
    }
  }

  private static FileLocation location(String path) throws IOException {
    return FileLocation.of(cluster.getURI() + path, conf);
  }

  private static List<String> names(String dir) throws IOException {
    FileStatus[] statuses = hdfs.listStatus(new Path(dir));
    return Arrays.stream(statuses).map(s -> s.getPath().getName()).sorted().toList();
  }
}
