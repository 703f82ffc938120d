package dev.calibra.storage.artifact;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The CRC32C of a tensor row over its canonical encoding (ARTIFACT.md, "Checksums"): every
 * column but crc32c, in schema order, each as a presence byte (0 null, 1 present) followed, when
 * present, by its value in little-endian form: an int32 as 4 bytes; a string as its int32 byte
 * length and UTF-8 bytes; a list as its int32 element count and its elements (int64 8 bytes,
 * int32 and float32 4 bytes, float16 2 bytes, floats as their IEEE bits); a binary value as its
 * int64 length and its bytes.
 */
final class TensorChecksum {

  private static final int CHUNK = 1 << 16;

  private final CRC32C crc = new CRC32C();
  private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);

  private TensorChecksum() {}

  /** The unsigned CRC32C, 0 to 2^32 − 1. */
  static long of(ArtifactTensor tensor) {
    TensorChecksum sum = new TensorChecksum();
    sum.string(tensor.name());
    sum.int32(tensor.block() == ArtifactTensor.NO_BLOCK ? null : tensor.block());
    sum.string(tensor.kind().columnValue());
    int[] shape = tensor.shape();
    sum.present(true);
    sum.count(shape.length);
    for (int dim : shape) {
      sum.room(8).putLong(dim);
    }
    TensorPayload payload = tensor.payload();
    UniformPayload uniform = payload instanceof UniformPayload u ? u : null;
    VqPayload vq = payload instanceof VqPayload v ? v : null;
    FloatPayload floats = payload instanceof FloatPayload f ? f : null;
    sum.int32(uniform != null ? (Integer) uniform.bits() : vq != null ? (Integer) vq.indexBits() : null);
    sum.int32(uniform != null ? uniform.groupSize() : null);
    sum.bytes(uniform != null ? uniform.packedCodes() : null);
    sum.floats(uniform != null ? uniform.scales() : vq != null ? vq.rowScales() : null);
    sum.ints(uniform != null ? uniform.zeroPoints() : null);
    sum.floats(uniform != null ? uniform.clipValues() : null);
    sum.halves(vq != null ? vq.codebook() : null);
    sum.int32(vq != null ? vq.dim() : null);
    sum.bytes(vq != null ? vq.packedIndices() : null);
    sum.floats(floats != null ? floats.values() : null);
    // Appended in format 1.1: encoded only when set, so a row that does not use it keeps 1.0's
    // checksum.
    if (vq != null && vq.codebookRows() != null) {
      sum.int32(vq.codebookRows());
    }
    sum.flush();
    return sum.crc.getValue();
  }

  private void present(boolean present) {
    room(1).put((byte) (present ? 1 : 0));
  }

  private void count(int count) {
    room(4).putInt(count);
  }

  private void int32(Integer value) {
    present(value != null);
    if (value != null) {
      room(4).putInt(value);
    }
  }

  private void string(String value) {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    present(true);
    count(utf8.length);
    raw(utf8);
  }

  private void bytes(byte[] value) {
    present(value != null);
    if (value != null) {
      room(8).putLong(value.length);
      raw(value);
    }
  }

  private void floats(float[] values) {
    present(values != null);
    if (values != null) {
      count(values.length);
      for (float v : values) {
        room(4).putInt(Float.floatToRawIntBits(v));
      }
    }
  }

  private void ints(int[] values) {
    present(values != null);
    if (values != null) {
      count(values.length);
      for (int v : values) {
        room(4).putInt(v);
      }
    }
  }

  private void halves(short[] values) {
    present(values != null);
    if (values != null) {
      count(values.length);
      for (short v : values) {
        room(2).putShort(v);
      }
    }
  }

  private void raw(byte[] bytes) {
    flush();
    crc.update(bytes, 0, bytes.length);
  }

  /** The buffer with at least {@code bytes} free, flushing it into the CRC when needed. */
  private ByteBuffer room(int bytes) {
    if (buffer.remaining() < bytes) {
      flush();
    }
    return buffer;
  }

  private void flush() {
    buffer.flip();
    crc.update(buffer);
    buffer.clear();
  }
}
