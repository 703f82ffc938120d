package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged files are refused with a message naming the file and, where known, the tensor. */
class CorruptArtifactTest {

  private static final String CODES = "model.layers.0.mlp.down_proj.weight";
  private static final String EMBEDDING = "model.embed_tokens.weight";

  @TempDir
  Path dir;
  private Path good;
  private ArtifactTensor codes;
  private ArtifactTensor embedding;

  @BeforeEach
  void writeAGoodArtifact() throws IOException {
    good = dir.resolve("good.arrow");
    codes = SampleTensors.uniform(CODES, 0, 8, 172, 3, 32, false, 7);
    embedding = SampleTensors.floats(EMBEDDING, ArtifactTensor.NO_BLOCK, 16, 8);
    ArtifactWriter.write(location(good), SampleTensors.metadata(1),
        List.of(embedding, codes, SampleTensors.floats("model.norm.weight", -1, 8)).iterator(), false);
  }

  @Test
  void aFlippedByteInPackedCodesNamesTheTensor() throws IOException {
    byte[] packed = ((UniformPayload) codes.payload()).packedCodes();
    Path bad = flipByteInside(packed, "codes.arrow");
    FileContentException e = assertThrows(FileContentException.class,
        () -> ArtifactReader.open(location(bad)).close());
    assertTrue(e.getMessage().startsWith(bad + ": tensor " + CODES + " fails its checksum"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("the file is corrupt"), e.getMessage());
  }

  @Test
  void aFlippedByteInFloatValuesNamesTheTensor() throws IOException {
    float[] values = ((FloatPayload) embedding.payload()).values();
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    Path bad = flipByteInside(bytes.array(), "floats.arrow");
    FileContentException e = assertThrows(FileContentException.class,
        () -> ArtifactReader.open(location(bad)).close());
    assertTrue(e.getMessage().contains("tensor " + EMBEDDING + " fails its checksum"),
        e.getMessage());
  }

  @Test
  void aTruncatedFileNamesTheFile() throws IOException {
    byte[] whole = Files.readAllBytes(good);
    for (int keep : new int[] {whole.length - 1, whole.length / 2, 3}) {
      Path cut = dir.resolve("cut-" + keep + ".arrow");
      Files.write(cut, Arrays.copyOf(whole, keep));
      FileContentException e = assertThrows(FileContentException.class,
          () -> ArtifactReader.open(location(cut)).close());
      String expected = keep == 3
          ? cut + " is not an Arrow IPC file (it does not start with ARROW1; it is 3 bytes)"
          : cut + " is truncated or was not completely written: it does not end with the ARROW1 "
              + "footer magic (" + keep + " bytes)";
      assertEquals(expected, e.getMessage());
    }
  }

  @Test
  void aFileFromANewerMajorVersionIsRefused() throws IOException {
    Map<String, String> metadata = new HashMap<>(SampleTensors.metadata(1).toArrow());
    metadata.put(ArtifactMetadata.FORMAT_VERSION, "2.0");
    Path newer = writeEmptyArrowFile("newer.arrow", metadata);
    FileContentException e = assertThrows(FileContentException.class,
        () -> ArtifactReader.open(location(newer)).close());
    assertEquals(newer + " has artifact format 2.0, newer than the 1.x this Calibra reads; use a "
        + "newer Calibra to read it", e.getMessage());
  }

  @Test
  void anArrowFileThatIsNoArtifactIsRefused() throws IOException {
    Path plain = writeEmptyArrowFile("plain.arrow", Map.of("origin", "pyarrow"));
    FileContentException e = assertThrows(FileContentException.class,
        () -> ArtifactReader.open(location(plain)).close());
    assertTrue(e.getMessage().startsWith(plain + " is an Arrow file but not a Calibra artifact"),
        e.getMessage());
  }

  @Test
  void aMissingFileIsReportedByName() {
    Path missing = dir.resolve("missing.arrow");
    IOException e = assertThrows(IOException.class,
        () -> ArtifactReader.open(location(missing)).close());
    assertEquals("artifact " + missing + " does not exist", e.getMessage());
  }

  /** A copy of the good file with one byte flipped in the middle of {@code payload}. */
  private Path flipByteInside(byte[] payload, String name) throws IOException {
    byte[] file = Files.readAllBytes(good);
    int at = indexOf(file, payload);
    assertTrue(at > 0, "payload found in the file");
    file[at + payload.length / 2] ^= 0x10;
    Path bad = dir.resolve(name);
    Files.write(bad, file);
    return bad;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private Path writeEmptyArrowFile(String name, Map<String, String> metadata) throws IOException {
    Path path = dir.resolve(name);
    try (RootAllocator allocator = new RootAllocator();
        VectorSchemaRoot root = VectorSchemaRoot.create(ArtifactSchema.withMetadata(metadata),
            allocator);
        ArrowFileWriter writer = new ArrowFileWriter(root, null,
            Channels.newChannel(Files.newOutputStream(path)))) {
      writer.start();
      writer.end();
    }
    return path;
  }

  private static FileLocation location(Path path) throws IOException {
    return FileLocation.of(path.toString(), new Configuration());
  }
}
