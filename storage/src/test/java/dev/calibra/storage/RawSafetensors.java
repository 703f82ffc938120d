package dev.calibra.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads a safetensors file the plain way (whole file, Jackson tree) to check the reader under
 * test against: the two share no code.
 */
public final class RawSafetensors {

  private final byte[] file;
  private final JsonNode header;
  private final int dataStart;

  public RawSafetensors(Path path) throws IOException {
    file = Files.readAllBytes(path);
    int headerLength = (int) ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    header = new ObjectMapper().readTree(Arrays.copyOfRange(file, 8, 8 + headerLength));
    dataStart = 8 + headerLength;
  }

  public JsonNode header() {
    return header;
  }

  public byte[] tensorBytes(String name) {
    JsonNode offsets = header.get(name).get("data_offsets");
    return Arrays.copyOfRange(file, dataStart + offsets.get(0).asInt(),
        dataStart + offsets.get(1).asInt());
  }

  /** The first {@code count} values of an F32 or BF16 tensor, decoded here from the bytes. */
  public float[] firstValues(String name, int count) {
    String dtype = header.get(name).get("dtype").asText();
    ByteBuffer bytes = ByteBuffer.wrap(tensorBytes(name)).order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = switch (dtype) {
        case "F32" -> bytes.getFloat(4 * i);
        // A bfloat16 is the top 16 bits of the float32 with the same value.
        case "BF16" -> Float.intBitsToFloat(Short.toUnsignedInt(bytes.getShort(2 * i)) << 16);
        default -> throw new IllegalArgumentException("test decodes F32 and BF16 only: " + dtype);
      };
    }
    return values;
  }
}
