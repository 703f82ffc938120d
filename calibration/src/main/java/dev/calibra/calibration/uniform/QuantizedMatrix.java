package dev.calibra.calibration.uniform;

/**
 * A weight matrix in quantized form: integer codes in [0, 2^bits), and per (row, group) a scale
 * and an integer zero point, so that weight ≈ (code − zero) · scale. This is what gets packed
 * into artifacts; {@link #dequantize()} gives the float weights the evaluation runs on.
 */
public record QuantizedMatrix(
    QuantizationScheme scheme, int rows, int cols, byte[] codes, float[] scales, int[] zeros) {

  public QuantizedMatrix {
    int groups = rows * scheme.groupsPerRow(cols);
    if (codes.length != rows * cols || scales.length != groups || zeros.length != groups) {
      throw new IllegalArgumentException("inconsistent quantized matrix " + rows + "×" + cols);
    }
  }

  /** The code of weight (row, col), as an unsigned value. */
  public int code(int row, int col) {
    return codes[row * cols + col] & 0xFF;
  }

  /** Index of the (row, group) entry in {@link #scales()} and {@link #zeros()}. */
  public int groupIndex(int row, int col) {
    return row * scheme.groupsPerRow(cols) + col / scheme.groupWidth(cols);
  }

  /**
   * Bits this matrix takes stored compactly, as the GPTQ layout stores it: a code per weight, and
   * per group a float16 scale and a zero point of {@code bits} bits.
   */
  public long storedBits() {
    long groups = (long) rows * scheme.groupsPerRow(cols);
    return (long) scheme.bits() * rows * cols + groups * (16 + scheme.bits());
  }

  public float[] dequantize() {
    float[] weights = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = groupIndex(r, c);
        weights[r * cols + c] = scales[g] * (code(r, c) - zeros[g]);
      }
    }
    return weights;
  }
}
