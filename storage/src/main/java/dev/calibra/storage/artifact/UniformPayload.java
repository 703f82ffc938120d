package dev.calibra.storage.artifact;

/**
 * Uniform asymmetric quantization of a rows×cols matrix: weight (r, c) = scale·(code − zero) of
 * the (row r, group c / width) pair, where width is the group size ({@link #PER_CHANNEL}: the
 * whole row) and the last group of a row is shorter when cols is not a multiple of it.
 *
 * @param bits width of a code, 1 to 8
 * @param groupSize columns per group, or {@link #PER_CHANNEL}
 * @param packedCodes the rows·cols codes, row-major, packed by {@link BitPacking}
 * @param scales one per (row, group), row-major
 * @param zeroPoints one per (row, group), each in [0, 2^bits)
 * @param clipValues null, or (low, high) per (row, group): the range the quantizer clipped the
 *     weights to; informational, dequantization does not use it
 */
public record UniformPayload(int bits, int groupSize, byte[] packedCodes, float[] scales,
    int[] zeroPoints, float[] clipValues) implements TensorPayload {

  public static final int PER_CHANNEL = -1;
  public static final int MAX_BITS = 8;

  public UniformPayload {
    if (bits < 1 || bits > MAX_BITS) {
      throw new IllegalArgumentException("uniform codes must have 1 to " + MAX_BITS
          + " bits, got " + bits);
    }
    if (groupSize <= 0 && groupSize != PER_CHANNEL) {
      throw new IllegalArgumentException("group size must be positive or " + PER_CHANNEL
          + " (per-channel), got " + groupSize);
    }
  }

  @Override
  public TensorKind kind() {
    return TensorKind.UNIFORM;
  }

  /** Columns per group in a row of {@code cols}. */
  public int groupWidth(int cols) {
    return groupSize == PER_CHANNEL ? cols : Math.min(groupSize, cols);
  }

  public int groupsPerRow(int cols) {
    int width = groupWidth(cols);
    return (cols + width - 1) / width;
  }

  @Override
  public void checkShape(int rows, int cols) {
    long codes = (long) rows * cols;
    long groups = (long) rows * groupsPerRow(cols);
    if (packedCodes.length != BitPacking.packedBytes(codes, bits)) {
      throw new IllegalArgumentException("packed codes are " + packedCodes.length + " bytes, expected "
          + BitPacking.packedBytes(codes, bits) + " for " + codes + " codes of " + bits + " bits");
    }
    requireLength("scales", scales.length, groups);
    requireLength("zero points", zeroPoints.length, groups);
    if (clipValues != null) {
      requireLength("clip values", clipValues.length, 2 * groups);
    }
    int limit = 1 << bits;
    for (int i = 0; i < zeroPoints.length; i++) {
      if (zeroPoints[i] < 0 || zeroPoints[i] >= limit) {
        throw new IllegalArgumentException("zero point " + zeroPoints[i] + " of group " + i
            + " is outside [0, " + limit + ")");
      }
    }
  }

  static void requireLength(String what, long actual, long expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(actual + " " + what + ", expected " + expected);
    }
  }
}
