package dev.calibra.calibration.uniform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class UniformQuantizerTest {

  @Test
  void twoBitGroupMatchesHandComputedGrid() {
    // One group [-1, 0.5, 2]: scale = 3/3 = 1, zero = rint(1) = 1, codes = rint(w) + 1.
    QuantizedMatrix q = new UniformQuantizer(new QuantizationScheme(2, 3))
        .quantize(new float[] {-1f, 0.5f, 2f}, 1, 3);
    assertEquals(1f, q.scales()[0]);
    assertEquals(1, q.zeros()[0]);
    // 0.5 rounds half to even: rint(0.5) = 0, so code 1 and value 0.
    assertEquals(0, q.code(0, 0));
    assertEquals(1, q.code(0, 1));
    assertEquals(3, q.code(0, 2));
    assertArrayEquals(new float[] {-1f, 0f, 2f}, q.dequantize());
  }

  @Test
  void rangeIsWidenedToIncludeZero() {
    // All-positive group: min is clamped to 0, so zero point 0 and 0 stays exactly representable.
    QuantizedMatrix q = new UniformQuantizer(new QuantizationScheme(4, QuantizationScheme.PER_CHANNEL))
        .quantize(new float[] {3f, 4f, 5f}, 1, 3);
    assertEquals(0, q.zeros()[0]);
    assertEquals(5f / 15f, q.scales()[0]);
  }

  @Test
  void lastGroupOfARowMayBeShorter() {
    QuantizationScheme scheme = new QuantizationScheme(4, 32);
    assertEquals(6, scheme.groupsPerRow(172));
    float[] w = new float[2 * 172];
    w[171] = 7f; // only the last, 12-wide group of row 0 sees this outlier
    w[0] = 0.1f;
    QuantizedMatrix q = new UniformQuantizer(scheme).quantize(w, 2, 172);
    assertEquals(12, q.scales().length);
    assertEquals(7f / 15f, q.scales()[5]);
    assertEquals(0.1f / 15f, q.scales()[0], 1e-9f);
    assertEquals(7f, q.dequantize()[171], 1e-6f);
  }

  @Test
  void allZeroGroupDequantizesToZero() {
    QuantizedMatrix q = new UniformQuantizer(new QuantizationScheme(3, 4)).quantize(new float[8], 2, 4);
    assertArrayEquals(new float[8], q.dequantize());
  }

  @Test
  void errorIsAtMostHalfAStepForEveryBitWidth() {
    Random random = new Random(3);
    float[] w = new float[16 * 100];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextGaussian();
    }
    for (int bits : new int[] {2, 3, 4, 8}) {
      QuantizedMatrix q = new UniformQuantizer(new QuantizationScheme(bits, 32)).quantize(w, 16, 100);
      float[] restored = q.dequantize();
      for (int r = 0; r < 16; r++) {
        for (int c = 0; c < 100; c++) {
          int i = r * 100 + c;
          float step = q.scales()[q.groupIndex(r, c)];
          assertTrue(Math.abs(w[i] - restored[i]) <= step / 2 * 1.0001f,
              bits + " bits: weight " + i + " off by more than half a step");
          assertTrue(q.code(r, c) < (1 << bits));
        }
      }
    }
  }

  @Test
  void rejectsImpossibleSchemesAndValues() {
    assertThrows(IllegalArgumentException.class, () -> new QuantizationScheme(1, 32));
    assertThrows(IllegalArgumentException.class, () -> new QuantizationScheme(9, 32));
    assertThrows(IllegalArgumentException.class, () -> QuantizationScheme.parseGroupSize("abc"));
    assertEquals(QuantizationScheme.PER_CHANNEL, QuantizationScheme.parseGroupSize("per-channel"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new UniformQuantizer(new QuantizationScheme(4, 2)).quantize(new float[] {1f, Float.NaN}, 1, 2));
    assertTrue(e.getMessage().contains("(0, 1)"), e.getMessage());
  }
}
