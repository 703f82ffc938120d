package dev.calibra.calibration.cbq;

import dev.calibra.calibration.uniform.QuantizedMatrix;

/**
 * Per (row, group) minimum and maximum of a weight matrix, widened to hold 0 (the grid must
 * represent 0 exactly). An all-zero group gets [−1, 1], as round-to-nearest gives it.
 */
public record GroupRanges(float[] min, float[] max, int groups) {

  public static GroupRanges of(float[] weights, int rows, int cols, int groupSize) {
    int groups = (cols + groupSize - 1) / groupSize;
    float[] min = new float[rows * groups];
    float[] max = new float[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = r * groups + c / groupSize;
        float w = weights[r * cols + c];
        if (!Float.isFinite(w)) {
          throw new IllegalArgumentException("weight (" + r + ", " + c + ") is " + w
              + ": cannot quantize non-finite values");
        }
        min[g] = Math.min(min[g], w);
        max[g] = Math.max(max[g], w);
      }
    }
    for (int g = 0; g < min.length; g++) {
      if (min[g] == 0f && max[g] == 0f) {
        min[g] = -1f;
        max[g] = 1f;
      }
    }
    return new GroupRanges(min, max, groups);
  }

  /**
   * The ranges whose round-to-nearest grid is {@code matrix}'s: per group [−z·s, (2^b − 1 − z)·s],
   * so that step and zero point come out as the matrix's.
   */
  public static GroupRanges ofGrid(QuantizedMatrix matrix) {
    float[] scales = matrix.scales();
    int[] zeros = matrix.zeros();
    int maxCode = matrix.scheme().levels() - 1;
    float[] min = new float[scales.length];
    float[] max = new float[scales.length];
    for (int g = 0; g < scales.length; g++) {
      min[g] = -zeros[g] * scales[g];
      max[g] = (maxCode - zeros[g]) * scales[g];
    }
    return new GroupRanges(min, max, matrix.scheme().groupsPerRow(matrix.cols()));
  }
}
