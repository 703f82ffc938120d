package dev.calibra.storage.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Exact conversion of little-endian F32, F16 and BF16 values to float32. Every F16 and BF16 value
 * is representable in float32, so nothing is rounded: subnormals, infinities, NaN payloads and
 * negative zero all survive.
 */
public final class FloatDecoding {

  private FloatDecoding() {
  }

  /**
   * Decodes all remaining bytes of {@code chunk} (a whole number of elements of {@code dtype})
   * into {@code out} starting at {@code outOffset}; returns the number of values written.
   */
  public static int decode(DType dtype, ByteBuffer chunk, float[] out, int outOffset) {
    ByteBuffer bytes = chunk.slice().order(ByteOrder.LITTLE_ENDIAN);
    int count = bytes.remaining() / dtype.bytes();
    switch (dtype) {
      case F32 -> bytes.asFloatBuffer().get(out, outOffset, count);
      case F16 -> {
        for (int i = 0; i < count; i++) {
          out[outOffset + i] = halfToFloat(bytes.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < count; i++) {
          out[outOffset + i] = bfloat16ToFloat(bytes.getShort(2 * i));
        }
      }
      default -> throw new IllegalArgumentException(dtype + " cannot be read as float32");
    }
    return count;
  }

  /** bfloat16 is the high half of a float32, so widening is a shift. */
  public static float bfloat16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits) to binary32. */
  public static float halfToFloat(short bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      // Infinity (mantissa 0) or NaN, keeping the payload in the high mantissa bits.
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      // Zero or subnormal: mantissa × 2^-24, exact in float32 (a normal number there).
      float magnitude = Math.scalb((float) mantissa, -24);
      return sign == 0 ? magnitude : -magnitude;
    }
    // Normal: rebias the exponent from 15 to 127 and widen the mantissa.
    return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  }
}
