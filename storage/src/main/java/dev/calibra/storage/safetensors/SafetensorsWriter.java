package dev.calibra.storage.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file tensor by tensor: the header, which needs every name, dtype and
 * shape, is written first from the declared tensors; their data then follows in the declared
 * order, each checked for its exact byte length, so that no tensor has to wait in memory.
 */
public final class SafetensorsWriter {

  /** A tensor to be written: its data must come in this order and with this size. */
  public record Declared(String name, DType dtype, long[] shape) {

    public long byteLength() {
      long count = 1;
      for (long d : shape) {
        count = Math.multiplyExact(count, d);
      }
      return Math.multiplyExact(count, (long) dtype.bytes());
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OutputStream out;
  private final List<Declared> declared;
  private int next;

  private SafetensorsWriter(OutputStream out, List<Declared> declared) {
    this.out = out;
    this.declared = declared;
  }

  /** Writes the header of {@code tensors} (in this order) with {@code metadata}. */
  public static SafetensorsWriter start(OutputStream out, List<Declared> tensors,
      Map<String, String> metadata) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Declared tensor : tensors) {
      ObjectNode entry = header.putObject(tensor.name());
      entry.put("dtype", tensor.dtype().name());
      entry.putPOJO("shape", tensor.shape());
      long end = offset + tensor.byteLength();
      entry.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    // Padding the header with spaces to a multiple of 8 keeps every tensor 8-byte aligned.
    int padded = (json.length + 7) / 8 * 8;
    byte[] headerBytes = Arrays.copyOf(json, padded);
    Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
    out.write(headerBytes);
    return new SafetensorsWriter(out, new ArrayList<>(tensors));
  }

  /** Writes the data of the next declared tensor, which must be {@code name}. */
  public void write(String name, byte[] littleEndianData) throws IOException {
    if (next >= declared.size()) {
      throw new IllegalStateException("tensor " + name + " was not declared in the header");
    }
    Declared expected = declared.get(next);
    if (!expected.name().equals(name)) {
      throw new IllegalStateException("tensor " + name + " written where the header declares "
          + expected.name());
    }
    if (littleEndianData.length != expected.byteLength()) {
      throw new IllegalArgumentException("tensor " + name + " has " + littleEndianData.length
          + " bytes, the header declares " + expected.byteLength() + " (" + expected.dtype() + " "
          + Arrays.toString(expected.shape()) + ")");
    }
    out.write(littleEndianData);
    next++;
  }

  /** Checks that every declared tensor was written. */
  public void finish() {
    if (next != declared.size()) {
      throw new IllegalStateException("only " + next + " of the " + declared.size()
          + " declared tensors were written; next missing: " + declared.get(next).name());
    }
  }

  /** float32 values as little-endian bytes. */
  public static byte[] f32(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return bytes.array();
  }

  /** int32 values as little-endian bytes. */
  public static byte[] i32(int[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asIntBuffer().put(values);
    return bytes.array();
  }

  /** float16 bit patterns as little-endian bytes. */
  public static byte[] f16(short[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asShortBuffer().put(values);
    return bytes.array();
  }
}
