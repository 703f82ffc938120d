package dev.calibra.storage.artifact;

import java.util.function.IntUnaryOperator;

/**
 * Packs small unsigned integers as one continuous little-endian bit stream: value i occupies
 * bits [i·bits, (i+1)·bits) of the stream, bit k of the stream being bit (k mod 8) of byte
 * k / 8. A value of 3 bits may thus straddle two bytes or two 32-bit words. The stream is padded
 * with zero bits to a whole number of 32-bit words, so it reads equally as little-endian uint32
 * words (the layout ARTIFACT.md specifies and GPTQ uses along each column).
 */
public final class BitPacking {

  public static final int MAX_BITS = 16;

  private BitPacking() {}

  /** Bytes of the packed stream of {@code count} values: a whole number of 32-bit words. */
  public static long packedBytes(long count, int bits) {
    requireBits(bits);
    long bitsTotal = Math.multiplyExact(count, (long) bits);
    return (bitsTotal + 31) / 32 * 4;
  }

  /** Packs unsigned 8-bit codes, each of which must fit in {@code bits}. */
  public static byte[] pack(byte[] codes, int bits) {
    return pack(codes.length, bits, i -> codes[i] & 0xFF);
  }

  /** Packs non-negative values, each of which must fit in {@code bits}. */
  public static byte[] pack(int[] values, int bits) {
    return pack(values.length, bits, i -> values[i]);
  }

  private static byte[] pack(int count, int bits, IntUnaryOperator value) {
    byte[] packed = new byte[Math.toIntExact(packedBytes(count, bits))];
    int limit = 1 << bits;
    long buffer = 0;
    int buffered = 0;
    int out = 0;
    for (int i = 0; i < count; i++) {
      int v = value.applyAsInt(i);
      if (v < 0 || v >= limit) {
        throw new IllegalArgumentException("value " + v + " at index " + i + " does not fit in "
            + bits + " bits");
      }
      buffer |= (long) v << buffered;
      buffered += bits;
      while (buffered >= 8) {
        packed[out++] = (byte) buffer;
        buffer >>>= 8;
        buffered -= 8;
      }
    }
    if (buffered > 0) {
      packed[out] = (byte) buffer;
    }
    return packed;
  }

  /** The first {@code count} values of a packed stream, as unsigned bytes (bits ≤ 8). */
  public static byte[] unpackBytes(byte[] packed, int bits, int count) {
    if (bits > 8) {
      throw new IllegalArgumentException(bits + "-bit values do not fit in bytes");
    }
    byte[] values = new byte[count];
    unpack(packed, bits, count, (i, v) -> values[i] = (byte) v);
    return values;
  }

  /** The first {@code count} values of a packed stream. */
  public static int[] unpack(byte[] packed, int bits, int count) {
    int[] values = new int[count];
    unpack(packed, bits, count, (i, v) -> values[i] = v);
    return values;
  }

  private interface IndexedIntConsumer {
    void accept(int index, int value);
  }

  private static void unpack(byte[] packed, int bits, int count, IndexedIntConsumer sink) {
    if (packed.length < packedBytes(count, bits)) {
      throw new IllegalArgumentException(packed.length + " bytes cannot hold " + count + " values of "
          + bits + " bits");
    }
    int mask = (1 << bits) - 1;
    long buffer = 0;
    int buffered = 0;
    int in = 0;
    for (int i = 0; i < count; i++) {
      while (buffered < bits) {
        buffer |= (long) (packed[in++] & 0xFF) << buffered;
        buffered += 8;
      }
      sink.accept(i, (int) (buffer & mask));
      buffer >>>= bits;
      buffered -= bits;
    }
  }

  private static void requireBits(int bits) {
    if (bits < 1 || bits > MAX_BITS) {
      throw new IllegalArgumentException("bit width must be 1 to " + MAX_BITS + ", got " + bits);
    }
  }
}
