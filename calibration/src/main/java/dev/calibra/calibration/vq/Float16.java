package dev.calibra.calibration.vq;

/**
 * IEEE 754 binary16 conversions (Java 17 has none built in): codebooks are stored as float16, so
 * the quantizer rounds them exactly as a stored codebook will read back.
 */
public final class Float16 {

  private Float16() {}

  /** The float16 nearest to {@code value} (ties to even), as its bits. */
  public static short fromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int magnitude = bits & 0x7fffffff;
    if (magnitude >= 0x7f800000) { // infinity or NaN
      return (short) (sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x200 : 0));
    }
    if (magnitude >= 0x477ff000) { // from 65520 (halfway past the largest, 65504) on: infinity
      return (short) (sign | 0x7c00);
    }
    if (magnitude < 0x38800000) { // below 2^-14: a subnormal in steps of 2^-24, rounded exactly
      return (short) (sign | (int) Math.rint(Float.intBitsToFloat(magnitude) * 0x1p24f));
    }
    int half = (((magnitude >>> 23) - 112) << 10) | ((magnitude >>> 13) & 0x3ff);
    int rest = magnitude & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++; // a carry out of the mantissa correctly steps the exponent up
    }
    return (short) (sign | half);
  }

  /** The float of float16 bits (exact). */
  public static float toFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** {@code value} rounded to the nearest float16. */
  public static float round(float value) {
    return toFloat(fromFloat(value));
  }
}
