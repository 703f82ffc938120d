package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files of format 1.0 (no vq_codebook_rows column) still read, their checksums unchanged. */
class FormatVersionTest {

  @TempDir
  Path dir;

  @Test
  void aFormat10FileReadsWithItsChecksums() throws IOException {
    List<ArtifactTensor> tensors = List.of(
        SampleTensors.floats("model.embed_tokens.weight", ArtifactTensor.NO_BLOCK, 16, 8),
        SampleTensors.uniform("model.layers.0.mlp.down_proj.weight", 0, 8, 172, 3, 32, false, 7),
        SampleTensors.vq("model.layers.0.mlp.up_proj.weight", 0, 6, 16, true, null));
    Path file = dir.resolve("old.arrow");
    writeAsFormat10(file, tensors);

    try (ArtifactReader reader = ArtifactReader.open(
        FileLocation.of(file.toString(), new Configuration()))) {
      for (ArtifactTensor tensor : tensors) {
        ArtifactTensor read = reader.read(tensor.name());
        ArtifactRoundTripTest.assertSameTensor(tensor, read);
      }
      assertNull(((VqPayload) reader.read("model.layers.0.mlp.up_proj.weight").payload())
          .codebookRows());
      assertEquals(3, reader.entries().size());
    }
  }

  /** Writes the tensors as a 1.0 writer did: 1.0's fifteen columns, version "1.0". */
  private static void writeAsFormat10(Path file, List<ArtifactTensor> tensors) throws IOException {
    Map<String, String> metadata = new HashMap<>(SampleTensors.metadata(1).toArrow());
    metadata.put(ArtifactMetadata.FORMAT_VERSION, "1.0");
    Schema current = ArtifactSchema.withMetadata(metadata);
    try (RootAllocator allocator = new RootAllocator();
        VectorSchemaRoot row = VectorSchemaRoot.create(current, allocator)) {
      VectorSchemaRoot old = new VectorSchemaRoot(new Schema(
          current.getFields().subList(0, ArtifactSchema.FORMAT_1_0_COLUMNS), metadata),
          row.getFieldVectors().subList(0, ArtifactSchema.FORMAT_1_0_COLUMNS), 0);
      try (ArrowFileWriter writer = new ArrowFileWriter(old, null,
          Channels.newChannel(Files.newOutputStream(file)))) {
        writer.start();
        for (ArtifactTensor tensor : tensors) {
          TensorRowCodec.write(tensor, row);
          old.setRowCount(1);
          writer.writeBatch();
        }
        writer.end();
      }
    }
  }
}
