package dev.calibra.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.storage.FileLocation;
import dev.calibra.storage.SafetensorsBuilder;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FloatDecodingTest {

  @TempDir
  Path dir;

  /** binary16 by its definition, in double arithmetic: no bit manipulation shared with the code. */
  private static double halfByDefinition(int bits) {
    int sign = (bits >> 15) & 1;
    int exponent = (bits >> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    double magnitude = exponent == 0
        ? mantissa / 1024.0 * Math.pow(2, -14)
        : (1 + mantissa / 1024.0) * Math.pow(2, exponent - 15);
    return sign == 1 ? -magnitude : magnitude;
  }

  @Test
  void everyFiniteHalfConvertsExactly() {
    for (int bits = 0; bits < 0x10000; bits++) {
      if (((bits >> 10) & 0x1f) == 0x1f) {
        continue;
      }
      float value = FloatDecoding.halfToFloat((short) bits);
      assertEquals(halfByDefinition(bits), value, 0.0, "half 0x" + Integer.toHexString(bits));
      assertEquals((bits & 0x8000) != 0, (Float.floatToRawIntBits(value) & 0x80000000) != 0,
          "sign of half 0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void halfSpecialValues() {
    assertEquals(Float.POSITIVE_INFINITY, FloatDecoding.halfToFloat((short) 0x7c00));
    assertEquals(Float.NEGATIVE_INFINITY, FloatDecoding.halfToFloat((short) 0xfc00));
    assertTrue(Float.isNaN(FloatDecoding.halfToFloat((short) 0x7e00)));
    assertTrue(Float.isNaN(FloatDecoding.halfToFloat((short) 0xfc01)));
    assertEquals(0x80000000, Float.floatToRawIntBits(FloatDecoding.halfToFloat((short) 0x8000)));
    assertEquals(Math.pow(2, -24), FloatDecoding.halfToFloat((short) 0x0001), 0.0);
    assertEquals(1023 * Math.pow(2, -24), FloatDecoding.halfToFloat((short) 0x03ff), 0.0);
    assertEquals(65504f, FloatDecoding.halfToFloat((short) 0x7bff));
  }

  @Test
  void bfloat16SpecialValues() {
    assertEquals(1f, FloatDecoding.bfloat16ToFloat((short) 0x3f80));
    assertEquals(-3.140625f, FloatDecoding.bfloat16ToFloat((short) 0xc049));
    assertEquals(Float.MIN_VALUE * 0x10000, FloatDecoding.bfloat16ToFloat((short) 0x0001));
    assertEquals(Float.POSITIVE_INFINITY, FloatDecoding.bfloat16ToFloat((short) 0x7f80));
    assertEquals(Float.NEGATIVE_INFINITY, FloatDecoding.bfloat16ToFloat((short) 0xff80));
    assertTrue(Float.isNaN(FloatDecoding.bfloat16ToFloat((short) 0x7fc0)));
    assertEquals(0x80000000, Float.floatToRawIntBits(FloatDecoding.bfloat16ToFloat((short) 0x8000)));
  }

  @Test
  void halfAndBfloat16TensorsReadFromAFile() throws IOException {
    int[] half = {0x3c00, 0xc000, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555};
    int[] bfloat = {0x3f80, 0xc049, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0x4049};
    Path file = new SafetensorsBuilder()
        .add("half", "F16", new long[] {3, 3}, SafetensorsBuilder.littleEndianShorts(half))
        .add("bfloat", "BF16", new long[] {8}, SafetensorsBuilder.littleEndianShorts(bfloat))
        .write(dir.resolve("mixed.safetensors"));
    try (SafetensorsFile opened =
        SafetensorsFile.open(FileLocation.of(file.toString(), new Configuration()))) {
      float[] halfValues = opened.readFloats("half");
      float[] expectedHalf = {1f, -2f, (float) Math.pow(2, -24), (float) (1023 * Math.pow(2, -24)),
          -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0.333251953125f};
      assertBitsEqual(expectedHalf, halfValues);
      float[] expectedBfloat = {1f, -3.140625f, Float.MIN_VALUE * 0x10000, -0f,
          Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3.140625f};
      assertBitsEqual(expectedBfloat, opened.readFloats("bfloat"));
    }
  }

  /** Compares bit patterns so that -0 differs from 0; NaNs compare as NaN. */
  private static void assertBitsEqual(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      if (Float.isNaN(expected[i])) {
        assertTrue(Float.isNaN(actual[i]), "value " + i);
      } else {
        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
            "value " + i + ": expected " + expected[i] + ", got " + actual[i]);
      }
    }
  }
}
