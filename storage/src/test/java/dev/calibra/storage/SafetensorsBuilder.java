package dev.calibra.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes safetensors files for tests, byte by byte as the format specifies, independently of the
 * reader under test: tensors are laid out one after another in the order added.
 */
public final class SafetensorsBuilder {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectNode header = JSON.createObjectNode();
  private final ByteArrayOutputStream data = new ByteArrayOutputStream();

  public SafetensorsBuilder metadata(String key, String value) {
    header.withObjectProperty("__metadata__").put(key, value);
    return this;
  }

  public SafetensorsBuilder add(String name, String dtype, long[] shape, byte[] bytes) {
    ObjectNode entry = header.putObject(name);
    entry.put("dtype", dtype);
    ArrayNode dims = entry.putArray("shape");
    for (long dim : shape) {
      dims.add(dim);
    }
    entry.putArray("data_offsets").add(data.size()).add(data.size() + bytes.length);
    data.writeBytes(bytes);
    return this;
  }

  public SafetensorsBuilder addF32(String name, long[] shape, float... values) {
    return add(name, "F32", shape, littleEndianFloats(values));
  }

  public byte[] toBytes() {
    return fileBytes(header.toString(), data.toByteArray());
  }

  public Path write(Path file) throws IOException {
    Files.write(file, toBytes());
    return file;
  }

  /** A file from a header given as text, for corrupt headers the builder would not produce. */
  public static byte[] fileBytes(String headerJson, byte[] data) {
    byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(json.length).put(json).put(data).array();
  }

  public static byte[] littleEndianFloats(float... values) {
    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      bytes.putFloat(value);
    }
    return bytes.array();
  }

  public static byte[] littleEndianShorts(int... values) {
    ByteBuffer bytes = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int value : values) {
      bytes.putShort((short) value);
    }
    return bytes.array();
  }
}
