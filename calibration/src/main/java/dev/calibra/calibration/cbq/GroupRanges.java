package dev.calibra.calibration.cbq;

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
}
