package dev.calibra.calibration.uniform;

/**
 * Round-to-nearest onto the asymmetric grid of each (row, group) ({@link GroupGrid}): the range
 * [min, max] of the group, widened to include 0, is split into 2^bits − 1 steps.
 */
public final class UniformQuantizer {

  private final QuantizationScheme scheme;

  public UniformQuantizer(QuantizationScheme scheme) {
    this.scheme = scheme;
  }

  public QuantizationScheme scheme() {
    return scheme;
  }

  /** Quantizes a row-major rows×cols matrix. */
  public QuantizedMatrix quantize(float[] weights, int rows, int cols) {
    if (weights.length != rows * cols) {
      throw new IllegalArgumentException(weights.length + " weights for a " + rows + "×" + cols + " matrix");
    }
    int width = scheme.groupWidth(cols);
    int groupsPerRow = scheme.groupsPerRow(cols);
    int maxCode = scheme.levels() - 1;
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * groupsPerRow];
    int[] zeros = new int[rows * groupsPerRow];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groupsPerRow; g++) {
        int start = r * cols + g * width;
        int end = r * cols + Math.min(cols, (g + 1) * width);
        float min = 0f;
        float max = 0f;
        for (int i = start; i < end; i++) {
          if (!Float.isFinite(weights[i])) {
            throw new IllegalArgumentException("weight (" + r + ", " + (i - r * cols)
                + ") is " + weights[i] + ": cannot quantize non-finite values");
          }
          min = Math.min(min, weights[i]);
          max = Math.max(max, weights[i]);
        }
        GroupGrid grid = GroupGrid.of(min, max, maxCode);
        scales[r * groupsPerRow + g] = grid.scale();
        zeros[r * groupsPerRow + g] = grid.zero();
        for (int i = start; i < end; i++) {
          codes[i] = (byte) grid.code(weights[i]);
        }
      }
    }
    return new QuantizedMatrix(scheme, rows, cols, codes, scales, zeros);
  }
}
