package dev.calibra.storage.gptq;

import dev.calibra.storage.artifact.BitPacking;
import dev.calibra.storage.artifact.UniformPayload;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.util.Float16;

/**
 * One uniformly quantized linear layer in the GPTQ layout. Our weight is [out, in] with codes
 * per (row = output, group of input columns); GPTQ transposes it to [in, out]:
 * <ul>
 *   <li>qweight int32 [in·bits/32, out]: column o holds the in codes of output o as one
 *       little-endian bit stream along the input dimension (for 3 bits, 32 codes fill 3 words and
 *       codes straddle words), which is exactly {@link BitPacking}'s stream per row;
 *   <li>qzeros int32 [groups, out·bits/32]: row g holds the stored zero points of group g of all
 *       outputs, packed the same way along the output dimension;
 *   <li>scales float16 [groups, out];
 *   <li>g_idx int32 [in]: the group of each input column, i / group_size.
 * </ul>
 */
public record GptqPacking(int[] qweight, int[] qzeros, short[] scales, int[] gIdx, int groups) {

  /** Bit widths GPTQ kernels implement. */
  public static final List<Integer> BITS = List.of(2, 3, 4, 8);

  /**
   * Why a [out, in] matrix of {@code bits}-bit codes in groups of {@code groupSize}
   * ({@link UniformPayload#PER_CHANNEL} for one per row) cannot be stored as GPTQ, or null when
   * it can. GPTQ has no shorter last group: the group size must divide the input dimension, and
   * both dimensions must fill whole 32-bit words.
   */
  public static String incompatibility(int bits, int groupSize, int out, int in) {
    if (!BITS.contains(bits)) {
      return bits + "-bit codes, but GPTQ stores only " + BITS + " bits";
    }
    if (groupSize != UniformPayload.PER_CHANNEL && in % groupSize != 0) {
      return in + " input columns, which groups of " + groupSize + " do not divide "
          + "(GPTQ has no shorter last group; a group size dividing " + in
          + " or per-channel would fit)";
    }
    if ((long) in * bits % 32 != 0) {
      return in + " input columns of " + bits + " bits, which do not fill whole 32-bit qweight words";
    }
    if ((long) out * bits % 32 != 0) {
      return out + " outputs of " + bits + " bits, which do not fill whole 32-bit qzeros words";
    }
    return null;
  }

  /**
   * Packs a layer; {@code out} × {@code in} as stored in the artifact.
   *
   * @throws IllegalArgumentException when the layout cannot hold it (see
   *     {@link #incompatibility}) or a zero point has no representation in {@code format}
   */
  public static GptqPacking of(UniformPayload payload, int out, int in, GptqFormat format) {
    String problem = incompatibility(payload.bits(), payload.groupSize(), out, in);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    int bits = payload.bits();
    int groupSize = payload.groupSize() == UniformPayload.PER_CHANNEL ? in : payload.groupSize();
    int groups = in / groupSize;
    int wordsPerColumn = in * bits / 32;

    byte[] codes = BitPacking.unpackBytes(payload.packedCodes(), bits, out * in);
    int[] qweight = new int[wordsPerColumn * out];
    byte[] row = new byte[in];
    for (int o = 0; o < out; o++) {
      System.arraycopy(codes, o * in, row, 0, in);
      int[] words = words(BitPacking.pack(row, bits));
      for (int w = 0; w < wordsPerColumn; w++) {
        qweight[w * out + o] = words[w];
      }
    }

    short[] scales = new short[groups * out];
    int[] storedZeros = new int[groups * out];
    for (int o = 0; o < out; o++) {
      for (int g = 0; g < groups; g++) {
        float scale = payload.scales()[o * groups + g];
        short half = Float16.toFloat16(scale);
        if (!Float.isFinite(Float16.toFloat(half)) || (Float16.toFloat(half) == 0 && scale != 0)) {
          throw new IllegalArgumentException("scale " + scale + " of output " + o + ", group " + g
              + " is outside the float16 range GPTQ stores scales in");
        }
        scales[g * out + o] = half;
        int zero = payload.zeroPoints()[o * groups + g];
        int stored = format.storedZero(zero);
        if (stored < 0) {
          throw new IllegalArgumentException("output " + o + ", group " + g + " has zero point "
              + zero + ", which the " + format.checkpointFormat() + " checkpoint format cannot "
              + "store (it stores zero − 1); export with checkpoint format gptq_v2");
        }
        storedZeros[g * out + o] = stored;
      }
    }
    int zeroWords = out * bits / 32;
    int[] qzeros = new int[groups * zeroWords];
    for (int g = 0; g < groups; g++) {
      int[] groupZeros = Arrays.copyOfRange(storedZeros, g * out, (g + 1) * out);
      System.arraycopy(words(BitPacking.pack(groupZeros, bits)), 0, qzeros, g * zeroWords, zeroWords);
    }

    int[] gIdx = new int[in];
    for (int i = 0; i < in; i++) {
      gIdx[i] = i / groupSize;
    }
    return new GptqPacking(qweight, qzeros, scales, gIdx, groups);
  }

  private static int[] words(byte[] littleEndian) {
    int[] words = new int[littleEndian.length / 4];
    ByteBuffer.wrap(littleEndian).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(words);
    return words;
  }
}
