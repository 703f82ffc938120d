package dev.calibra.storage.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.calibra.storage.artifact.BitPacking;
import dev.calibra.storage.artifact.UniformPayload;
import java.util.Random;
import org.apache.arrow.memory.util.Float16;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The GPTQ tensors, unpacked the way GPTQ loaders do, give back our codes and zero points. */
class GptqPackingTest {

  @ParameterizedTest(name = "w{0} g{1}")
  @CsvSource({"4, 32", "3, 32", "2, 16", "8, -1"})
  void unpacksToTheSameCodesZerosAndScales(int bits, int group) {
    int out = 32;
    int in = 64;
    Random random = new Random(bits);
    byte[] codes = new byte[out * in];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) random.nextInt(1 << bits);
    }
    int groups = group == -1 ? 1 : in / group;
    float[] scales = new float[out * groups];
    int[] zeros = new int[out * groups];
    for (int i = 0; i < scales.length; i++) {
      scales[i] = 0.001f + random.nextFloat() / 7;
      zeros[i] = 1 + random.nextInt((1 << bits) - 1);
    }
    UniformPayload payload = new UniformPayload(bits, group, BitPacking.pack(codes, bits), scales,
        zeros, null);
    GptqPacking v1 = GptqPacking.of(payload, out, in, GptqFormat.GPTQ);
    GptqPacking v2 = GptqPacking.of(payload, out, in, GptqFormat.GPTQ_V2);
    assertEquals(groups, v1.groups());
    assertEquals(in * bits / 32 * out, v1.qweight().length);
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        // Input i of output o is bits [i·bits, (i+1)·bits) of column o's word stream.
        assertEquals(codes[o * in + i], (byte) field(v1.qweight(), out, o, i, bits), "code " + o + "," + i);
      }
      for (int g = 0; g < groups; g++) {
        int zeroWords = out * bits / 32;
        assertEquals(zeros[o * groups + g] - 1, field(v1.qzeros(), 1, 0, g * zeroWords * 32 / bits + o, bits));
        assertEquals(zeros[o * groups + g], field(v2.qzeros(), 1, 0, g * zeroWords * 32 / bits + o, bits));
        assertEquals(Float16.toFloat16(scales[o * groups + g]), v1.scales()[g * out + o]);
      }
    }
    int[] expectedGroups = new int[in];
    for (int i = 0; i < in; i++) {
      expectedGroups[i] = group == -1 ? 0 : i / group;
    }
    assertArrayEquals(expectedGroups, v1.gIdx());
  }

  @Test
  void threeBitCodesCrossWordsAsTheGptqLayoutPlacesThem() {
    // One output, 32 inputs: value 10 is split over words 0 (bits 30-31) and 1 (bit 0).
    byte[] codes = new byte[32 * 32];
    codes[10] = 0b110;
    int[] zeros = new int[32];
    java.util.Arrays.fill(zeros, 4);
    float[] scales = new float[32];
    java.util.Arrays.fill(scales, 1f);
    GptqPacking packed = GptqPacking.of(new UniformPayload(3, 32, BitPacking.pack(codes, 3), scales,
        zeros, null), 32, 32, GptqFormat.GPTQ);
    assertEquals(0b10 << 30, packed.qweight()[0]);
    assertEquals(0b1, packed.qweight()[32]);
    assertEquals(0, packed.qweight()[64]);
  }

  @Test
  void aGroupSizeThatDoesNotDivideTheRowIsRefused() {
    assertEquals("288 input columns, which groups of 128 do not divide (GPTQ has no shorter last "
        + "group; a group size dividing 288 or per-channel would fit)",
        GptqPacking.incompatibility(4, 128, 288, 288));
    assertNull(GptqPacking.incompatibility(4, 32, 96, 288));
    assertEquals("172 input columns of 4 bits, which do not fill whole 32-bit qweight words",
        GptqPacking.incompatibility(4, -1, 64, 172));
    assertEquals("172 outputs of 4 bits, which do not fill whole 32-bit qzeros words",
        GptqPacking.incompatibility(4, -1, 172, 64));
    assertEquals("5-bit codes, but GPTQ stores only [2, 3, 4, 8] bits",
        GptqPacking.incompatibility(5, 32, 64, 64));
  }

  @Test
  void aZeroPointOfZeroNeedsTheV2Format() {
    int[] zeros = new int[8];
    zeros[5] = 0;
    for (int i = 0; i < 8; i++) {
      zeros[i] = i == 5 ? 0 : 3;
    }
    float[] scales = new float[8];
    java.util.Arrays.fill(scales, 0.5f);
    UniformPayload payload = new UniformPayload(4, -1, BitPacking.pack(new byte[64], 4), scales,
        zeros, null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GptqPacking.of(payload, 8, 8, GptqFormat.GPTQ));
    assertEquals("output 5, group 0 has zero point 0, which the gptq checkpoint format cannot "
        + "store (it stores zero − 1); export with checkpoint format gptq_v2", e.getMessage());
    assertEquals(0, GptqPacking.of(payload, 8, 8, GptqFormat.GPTQ_V2).qzeros()[0] >>> 20 & 0xF);
  }

  /** Value {@code index} of the bit stream formed by column {@code column} of a [words, width] array. */
  private static int field(int[] words, int width, int column, int index, int bits) {
    int value = 0;
    for (int b = 0; b < bits; b++) {
      long bit = (long) index * bits + b;
      int word = words[(int) (bit / 32) * width + column];
      value |= ((word >>> (bit % 32)) & 1) << b;
    }
    return value;
  }
}
