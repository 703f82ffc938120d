package dev.calibra.calibration.uniform;

/**
 * Uniform asymmetric weight quantization: {@code bits} per weight, one scale and zero point per
 * output row and group of {@code groupSize} consecutive input columns ({@link #PER_CHANNEL}: one
 * group spanning the whole row). A row whose length is not a multiple of the group size ends with
 * a shorter group.
 */
public record QuantizationScheme(int bits, int groupSize) {

  public static final int PER_CHANNEL = 0;
  public static final int MIN_BITS = 2;
  public static final int MAX_BITS = 8;

  public QuantizationScheme {
    if (bits < MIN_BITS || bits > MAX_BITS) {
      throw new IllegalArgumentException("cannot quantize to " + bits + " bits: uniform "
          + "quantization supports " + MIN_BITS + " to " + MAX_BITS + " bits per weight");
    }
    if (groupSize < 0) {
      throw new IllegalArgumentException("group size must be positive or per-channel, got " + groupSize);
    }
  }

  /** Parses a group size: a positive integer, or "per-channel" (also "channel", "0", "-1"). */
  public static int parseGroupSize(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("per-channel") || t.equals("channel") || t.equals("0") || t.equals("-1")) {
      return PER_CHANNEL;
    }
    try {
      int value = Integer.parseInt(t);
      if (value > 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // falls through to the message below
    }
    throw new IllegalArgumentException("group size must be a positive integer or 'per-channel', got '"
        + text + "'");
  }

  public int levels() {
    return 1 << bits;
  }

  /** Width of the groups of a row of {@code cols} weights. */
  public int groupWidth(int cols) {
    return groupSize == PER_CHANNEL ? cols : Math.min(groupSize, cols);
  }

  /** Number of groups in a row of {@code cols} weights. */
  public int groupsPerRow(int cols) {
    int width = groupWidth(cols);
    return (cols + width - 1) / width;
  }

  /** "w4 g128" or "w4 per-channel": how reports and logs name a scheme. */
  public String label() {
    return "w" + bits + (groupSize == PER_CHANNEL ? " per-channel" : " g" + groupSize);
  }

  /** The group column as reports print it: the size, or "per-channel". */
  public String groupLabel() {
    return groupSize == PER_CHANNEL ? "per-channel" : Integer.toString(groupSize);
  }
}
