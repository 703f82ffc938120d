package dev.calibra.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.SafetensorsBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed header is refused, naming the file, the tensor and what was wrong. */
class CorruptSafetensorsTest {

  private static final byte[] SIX_FLOATS = new byte[24];

  @TempDir
  Path dir;

  private SafetensorsFile open(Path file) throws IOException {
    return SafetensorsFile.open(FileLocation.of(file.toString(), new Configuration()));
  }

  private Path write(String name, byte[] content) throws IOException {
    return Files.write(dir.resolve(name), content);
  }

  /** Opens a file with this header and data; asserts refusal with all fragments in the message. */
  private void assertRejected(String headerJson, byte[] data, String... fragments)
      throws IOException {
    Path file = write("bad.safetensors", SafetensorsBuilder.fileBytes(headerJson, data));
    assertRejected(file, fragments);
  }

  private void assertRejected(Path file, String... fragments) {
    FileContentException e = assertThrows(FileContentException.class, () -> open(file).close());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
  }

  @Test
  void headerLengthBeyondTheFile() throws IOException {
    byte[] content = SafetensorsBuilder.fileBytes("{}", new byte[0]);
    ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 10_000);
    assertRejected(write("long.safetensors", content), "header length 10000", "10 bytes");
  }

  @Test
  void headerLengthAbsurdlyLarge() throws IOException {
    byte[] content = SafetensorsBuilder.fileBytes("{}", new byte[0]);
    ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
    assertRejected(write("huge.safetensors", content), "header length 18446744073709551615");
  }

  @Test
  void fileShorterThanTheLengthPrefix() throws IOException {
    assertRejected(write("tiny.safetensors", new byte[] {1, 2, 3}), "3 bytes is too short");
  }

  @Test
  void headerThatIsNotJson() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F32\",", new byte[0], "not valid JSON");
  }

  @Test
  void headerThatIsNotAnObject() throws IOException {
    assertRejected("[1, 2]", new byte[0], "must be a JSON object", "ARRAY");
  }

  @Test
  void duplicateTensorName() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
        + " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", new byte[8],
        "Duplicate field 'w'");
  }

  @Test
  void offsetsOutsideTheDataSection() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [24, 48]}}",
        SIX_FLOATS, "tensor 'w'", "[24,48]", "data section of 24 bytes");
  }

  @Test
  void overlappingRanges() throws IOException {
    assertRejected("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
        + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", SIX_FLOATS,
        "tensor 'b' bytes [8, 24) overlap tensor 'a' bytes [0, 16)");
  }

  @Test
  void sizeThatDoesNotMatchTheShape() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}",
        SIX_FLOATS, "tensor 'w'", "span 20 bytes, expected 24 for shape [2, 3] of F32");
  }

  @Test
  void truncatedData() throws IOException {
    byte[] whole = new SafetensorsBuilder()
        .addF32("first", new long[] {2}, 1f, 2f)
        .addF32("last", new long[] {2, 2}, 1f, 2f, 3f, 4f)
        .toBytes();
    Path file = write("cut.safetensors", Arrays.copyOf(whole, whole.length - 3));
    assertRejected(file, "tensor 'last'", "[8,24]", "data section of 21 bytes", "truncated");
  }

  @Test
  void unknownDtype() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F17\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
        new byte[4], "tensor 'w'", "unknown dtype 'F17'");
  }

  @Test
  void negativeOrFractionalShape() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
        new byte[4], "tensor 'w'", "shape must hold non-negative integers", "[-1]");
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
        new byte[4], "tensor 'w'", "shape must hold non-negative integers");
  }

  @Test
  void malformedOffsets() throws IOException {
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}",
        new byte[4], "tensor 'w'", "begin <= end", "[4,0]");
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}",
        new byte[8], "tensor 'w'", "data_offsets must be [begin, end]");
    assertRejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[4], "tensor 'w'",
        "data_offsets must be an array");
  }

  @Test
  void metadataMustHoldStrings() throws IOException {
    assertRejected("{\"__metadata__\": {\"format\": 1}}", new byte[0],
        "__metadata__.format must be a string");
  }

  @Test
  void metadataAndEmptyTensorsAreAccepted() throws IOException {
    Path file = new SafetensorsBuilder()
        .metadata("format", "pt")
        .add("empty", "F32", new long[] {0, 4}, new byte[0])
        .addF32("scalar", new long[] {}, 7f)
        .write(dir.resolve("ok.safetensors"));
    try (SafetensorsFile opened = open(file)) {
      assertEquals("pt", opened.header().metadata().get("format"));
      assertEquals(0, opened.readFloats("empty").length);
      assertEquals(7f, opened.readFloats("scalar")[0]);
    }
  }

  @Test
  void otherDtypesAreListedButNotReadAsFloats() throws IOException {
    Path file = new SafetensorsBuilder()
        .add("positions", "I64", new long[] {2}, new byte[16])
        .write(dir.resolve("ints.safetensors"));
    try (SafetensorsFile opened = open(file)) {
      assertEquals(DType.I64, opened.tensor("positions").dtype());
      FileContentException e =
          assertThrows(FileContentException.class, () -> opened.readFloats("positions"));
      assertEquals("positions in " + file + " is I64, expected F32, F16 or BF16 to read it as "
          + "float32", e.getMessage());
      FileContentException missing =
          assertThrows(FileContentException.class, () -> opened.readFloats("absent"));
      assertTrue(missing.getMessage().contains("no tensor 'absent' in " + file));
    }
  }
}
