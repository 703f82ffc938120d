package dev.calibra.storage.safetensors;

import java.util.Arrays;
import java.util.Optional;

/**
 * The element types a safetensors header may name, with their width in bytes. Only F32, F16 and
 * BF16 can be read as float32; the others are known so that a header holding them is still
 * valid and a request for one fails with a clear message rather than a parse error.
 */
public enum DType {
  BOOL(1),
  U8(1),
  I8(1),
  F8_E5M2(1),
  F8_E4M3(1),
  I16(2),
  U16(2),
  F16(2),
  BF16(2),
  I32(4),
  U32(4),
  F32(4),
  I64(8),
  U64(8),
  F64(8);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }

  /** Whether {@link FloatDecoding} converts it to float32 without rounding. */
  public boolean readableAsFloat32() {
    return this == F32 || this == F16 || this == BF16;
  }

  /** The dtype spelled as in a header ("BF16"), or empty for a name this reader does not know. */
  public static Optional<DType> fromHeaderName(String name) {
    return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
  }
}
