package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.SharedData;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** write → read gives back every value bit for bit, on real Arrow IPC files. */
class ArtifactRoundTripTest {

  @TempDir
  Path dir;

  @Test
  void everyKindAndColumnComesBackBitExact() throws IOException {
    List<ArtifactTensor> written = List.of(
        SampleTensors.floats("model.embed_tokens.weight", ArtifactTensor.NO_BLOCK, 16, 8),
        // 172 columns in groups of 32: five full groups and a last one of 12.
        SampleTensors.uniform("model.layers.0.mlp.down_proj.weight", 0, 5, 172, 3, 32, true, 1),
        SampleTensors.uniform("model.layers.0.mlp.up_proj.weight", 0, 7, 64, 4, -1, false, 2),
        SampleTensors.uniform("model.layers.1.self_attn.q_proj.weight", 1, 3, 288, 2, 128, false, 3),
        SampleTensors.uniform("model.layers.1.self_attn.k_proj.weight", 1, 2, 64, 8, 32, false, 4),
        SampleTensors.vq("model.layers.1.self_attn.v_proj.weight", 1, 6, 16, true, null),
        SampleTensors.vq("model.layers.1.self_attn.o_proj.weight", 1, 2, 8, false, null),
        SampleTensors.vq("model.layers.1.mlp.up_proj.weight", 1, 7, 8, true, 3),
        SampleTensors.floats("model.norm.weight", ArtifactTensor.NO_BLOCK, 8));
    FileLocation file = location("model.arrow");
    ArtifactMetadata metadata = SampleTensors.metadata(2);
    ArtifactWriter.write(file, metadata, written.iterator(), false);

    try (ArtifactReader reader = ArtifactReader.open(file)) {
      assertEquals(metadata, reader.metadata());
      assertEquals(written.size(), reader.entries().size());
      List<ArtifactTensor> read = new ArrayList<>();
      reader.tensors().forEachRemaining(read::add);
      for (int i = 0; i < written.size(); i++) {
        assertSameTensor(written.get(i), read.get(i));
        assertSameTensor(written.get(i), reader.read(written.get(i).name()));
        assertEquals(i, reader.entry(written.get(i).name()).batch());
      }
    }
  }

  @Test
  void dequantizesUniformAsScaleTimesCodeMinusZeroWithAShorterLastGroup() throws IOException {
    // 1 row of 5 columns, groups of 2: groups (0,1) (2,3) (4).
    byte[] codes = {0, 3, 1, 2, 3};
    ArtifactTensor tensor = new ArtifactTensor("w", 0, new int[] {1, 5}, new UniformPayload(2, 2,
        BitPacking.pack(codes, 2), new float[] {0.5f, 0.25f, 2f}, new int[] {1, 2, 3}, null));
    assertArrayEquals(new float[] {-0.5f, 1f, -0.25f, 0f, 0f}, Dequantizer.toFloats(tensor));
  }

  @Test
  void dequantizesVqFromTheCodebookTimesTheRowScale() {
    short one = org.apache.arrow.memory.util.Float16.toFloat16(1f);
    short half = org.apache.arrow.memory.util.Float16.toFloat16(0.5f);
    short minusTwo = org.apache.arrow.memory.util.Float16.toFloat16(-2f);
    // Two entries of dim 2: (1, 0.5) and (-2, 1); row 0 = [entry 1, entry 0], row 1 = [entry 0, entry 0].
    VqPayload payload = new VqPayload(1, 2, new short[] {one, half, minusTwo, one},
        BitPacking.pack(new int[] {1, 0, 0, 0}, 1), new float[] {2f, 3f}, null);
    ArtifactTensor tensor = new ArtifactTensor("v", 0, new int[] {2, 4}, payload);
    assertArrayEquals(new float[] {-4f, 2f, 2f, 1f, 3f, 1.5f, 3f, 1.5f},
        Dequantizer.toFloats(tensor));
  }

  @Test
  void dequantizesVqWithACodebookPerGroupOfRows() {
    short one = org.apache.arrow.memory.util.Float16.toFloat16(1f);
    short two = org.apache.arrow.memory.util.Float16.toFloat16(2f);
    short three = org.apache.arrow.memory.util.Float16.toFloat16(3f);
    short four = org.apache.arrow.memory.util.Float16.toFloat16(4f);
    // Three rows of one sub-vector of dim 1, two rows per codebook of two entries: rows 0 and 1
    // index codebook (1, 2), row 2 the shorter last group's (3, 4).
    VqPayload payload = new VqPayload(1, 1, new short[] {one, two, three, four},
        BitPacking.pack(new int[] {1, 0, 1}, 1), null, 2);
    ArtifactTensor tensor = new ArtifactTensor("v", 0, new int[] {3, 1}, payload);
    assertArrayEquals(new float[] {2f, 1f, 4f}, Dequantizer.toFloats(tensor));
    assertThrows(IllegalArgumentException.class, () -> new ArtifactTensor("v", 0,
        new int[] {3, 1}, new VqPayload(1, 1, new short[] {one, two, three},
            BitPacking.pack(new int[] {1, 0, 1}, 1), null, 2)),
        "three values are not two codebooks");
  }

  @Test
  void theRealStories260KWeightsRoundTripAsFloatTensors() throws IOException {
    Path model = SharedData.model("stories260K");
    FileLocation file = location("stories260K-float.arrow");
    List<String> names = new ArrayList<>();
    try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.openSingle(
        FileLocation.of(model.resolve("model.safetensors").toString(), new Configuration()))) {
      names.addAll(checkpoint.tensorNames());
      try (ArtifactWriter writer = ArtifactWriter.create(file,
          SampleTensors.metadata(5).asArtifact(ArtifactMetadata.emptyObject(),
              ArtifactMetadata.emptyObject()), false)) {
        for (String name : names) {
          long[] shape = checkpoint.tensor(name).shape();
          int[] dims = Arrays.stream(shape).mapToInt(d -> (int) d).toArray();
          writer.write(new ArtifactTensor(name, blockOf(name), dims,
              new FloatPayload(checkpoint.readFloats(name))));
        }
        writer.commit();
      }
      try (ArtifactReader reader = ArtifactReader.open(file)) {
        assertEquals(names.size(), reader.entries().size());
        for (String name : names) {
          ArtifactTensor tensor = reader.read(name);
          assertArrayEquals(checkpoint.readFloats(name), Dequantizer.toFloats(tensor), name);
          assertEquals(blockOf(name), tensor.block(), name);
        }
      }
    }
  }

  @Test
  void aWeightSourceOverAFloatArtifactGivesTheModelsOwnWeights() throws IOException {
    FileLocation file = location("stories260K-source.arrow");
    CpuBackend backend = new CpuBackend();
    try (ModelDirectory model = ModelDirectory.open(SharedData.model("stories260K").toString())) {
      SafetensorsCheckpoint checkpoint = model.checkpoint();
      ArtifactMetadata metadata = SampleTensors.metadata(5).asArtifact(
          ArtifactMetadata.emptyObject(), ArtifactMetadata.emptyObject());
      ObjectNode config = (ObjectNode) new ObjectMapper().readTree(
          SharedData.model("stories260K").resolve("config.json").toFile());
      metadata = new ArtifactMetadata(config, metadata.tokenizer(), metadata.recipe(),
          metadata.metrics(), metadata.provenance(), Optional.empty());
      try (ArtifactWriter writer = ArtifactWriter.create(file, metadata, false)) {
        for (String name : checkpoint.tensorNames()) {
          int[] dims = Arrays.stream(checkpoint.tensor(name).shape())
              .mapToInt(d -> (int) d).toArray();
          writer.write(new ArtifactTensor(name, blockOf(name), dims,
              new FloatPayload(checkpoint.readFloats(name))));
        }
        writer.commit();
      }
      try (ArtifactWeightSource source = ArtifactWeightSource.open(file)) {
        assertEquals(model.config(), source.config());
        BlockWeights expected = model.weights().block(3, backend);
        BlockWeights actual = source.block(3, backend);
        for (Linear linear : Linear.values()) {
          assertArrayEquals(backend.download(expected.weight(linear)),
              backend.download(actual.weight(linear)), linear.name());
        }
        assertArrayEquals(backend.download(expected.inputNorm()),
            backend.download(actual.inputNorm()));
        assertArrayEquals(backend.download(model.weights().lmHead(backend)),
            backend.download(source.lmHead(backend)), "tied lm_head is the embedding");
      }
    }
  }

  static int blockOf(String name) {
    if (!name.startsWith("model.layers.")) {
      return ArtifactTensor.NO_BLOCK;
    }
    return Integer.parseInt(name.split("\\.")[2]);
  }

  private FileLocation location(String name) throws IOException {
    return FileLocation.of(dir.resolve(name).toString(), new Configuration());
  }

  static void assertSameTensor(ArtifactTensor expected, ArtifactTensor actual) {
    String name = expected.name();
    assertEquals(name, actual.name());
    assertEquals(expected.block(), actual.block(), name);
    assertArrayEquals(expected.shape(), actual.shape(), name);
    assertEquals(expected.kind(), actual.kind(), name);
    if (expected.payload() instanceof UniformPayload u) {
      UniformPayload a = (UniformPayload) actual.payload();
      assertEquals(u.bits(), a.bits(), name);
      assertEquals(u.groupSize(), a.groupSize(), name);
      assertArrayEquals(u.packedCodes(), a.packedCodes(), name);
      assertArrayEquals(u.scales(), a.scales(), name);
      assertArrayEquals(u.zeroPoints(), a.zeroPoints(), name);
      if (u.clipValues() == null) {
        assertNull(a.clipValues(), name);
      } else {
        assertArrayEquals(u.clipValues(), a.clipValues(), name);
      }
    } else if (expected.payload() instanceof VqPayload v) {
      VqPayload a = (VqPayload) actual.payload();
      assertEquals(v.indexBits(), a.indexBits(), name);
      assertEquals(v.dim(), a.dim(), name);
      assertArrayEquals(v.codebook(), a.codebook(), name);
      assertArrayEquals(v.packedIndices(), a.packedIndices(), name);
      assertEquals(v.codebookRows(), a.codebookRows(), name);
      if (v.rowScales() == null) {
        assertNull(a.rowScales(), name);
      } else {
        assertArrayEquals(v.rowScales(), a.rowScales(), name);
      }
    } else {
      assertArrayEquals(((FloatPayload) expected.payload()).values(),
          ((FloatPayload) actual.payload()).values(), name);
    }
    assertArrayEquals(Dequantizer.toFloats(expected), Dequantizer.toFloats(actual), name);
  }
}
