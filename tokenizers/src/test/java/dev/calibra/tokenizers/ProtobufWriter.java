package dev.calibra.tokenizers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes protobuf wire format, to build small SentencePiece model files for tests. */
final class ProtobufWriter {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  ProtobufWriter varint(int field, long value) {
    writeVarint((long) field << 3);
    writeVarint(value);
    return this;
  }

  ProtobufWriter floatValue(int field, float value) {
    writeVarint((long) field << 3 | 5);
    int bits = Float.floatToIntBits(value);
    for (int i = 0; i < 4; i++) {
      out.write(bits >>> (8 * i));
    }
    return this;
  }

  ProtobufWriter bytes(int field, byte[] value) {
    writeVarint((long) field << 3 | 2);
    writeVarint(value.length);
    out.writeBytes(value);
    return this;
  }

  ProtobufWriter string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  ProtobufWriter message(int field, ProtobufWriter message) {
    return bytes(field, message.toByteArray());
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }

  private void writeVarint(long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) (value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
  }
}
