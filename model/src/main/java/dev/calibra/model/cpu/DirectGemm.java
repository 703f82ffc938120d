package dev.calibra.model.cpu;

import java.util.Arrays;

/**
 * The unpacked product, for problems where packing would cost more than it saves: very little
 * work in all, or fewer rows than a micro-kernel tile (a single token's activations times a weight
 * matrix). Columns of C are split over the {@link Parallel} pool when the product is large.
 */
final class DirectGemm {

  /** Columns of C per parallel chunk: enough that a chunk outweighs handing it to a thread. */
  private static final int COLUMN_GRAIN = 256;

  private DirectGemm() {}

  static void multiply(int m, int n, int k, StridedMatrix a, StridedMatrix b, float beta,
      float[] c, int cOffset, int ldc, boolean parallel) {
    Parallel.RangeBody columns = b.colStride() == 1
        ? (first, end) -> addScaledRows(m, k, a, b, beta, c, cOffset, ldc, first, end)
        : (first, end) -> dotProducts(m, k, a, b, beta, c, cOffset, ldc, first, end);
    if (parallel) {
      Parallel.forRange(n, COLUMN_GRAIN, columns);
    } else {
      columns.run(0, n);
    }
  }

  /**
   * For op(B) with contiguous rows: builds each row of C as a sum of scaled rows of op(B), so the
   * inner loop streams through memory.
   */
  private static void addScaledRows(int m, int k, StridedMatrix a, StridedMatrix b, float beta,
      float[] c, int cOffset, int ldc, int firstCol, int endCol) {
    float[] aData = a.data();
    float[] bData = b.data();
    for (int i = 0; i < m; i++) {
      int row = cOffset + i * ldc;
      scale(c, row + firstCol, row + endCol, beta);
      for (int p = 0; p < k; p++) {
        float scale = aData[a.index(i, p)];
        int from = b.index(p, 0);
        for (int j = firstCol; j < endCol; j++) {
          c[row + j] += scale * bData[from + j];
        }
      }
    }
  }

  /** For op(B) with contiguous columns (a transposed B): one dot product per element of C. */
  private static void dotProducts(int m, int k, StridedMatrix a, StridedMatrix b, float beta,
      float[] c, int cOffset, int ldc, int firstCol, int endCol) {
    float[] aData = a.data();
    float[] bData = b.data();
    int aStep = a.colStride();
    for (int i = 0; i < m; i++) {
      int aRow = a.index(i, 0);
      for (int j = firstCol; j < endCol; j++) {
        int bColumn = b.index(0, j);
        float sum = 0f;
        for (int p = 0; p < k; p++) {
          sum += aData[aRow + p * aStep] * bData[bColumn + p];
        }
        int at = cOffset + i * ldc + j;
        c[at] = beta == 0f ? sum : beta * c[at] + sum;
      }
    }
  }

  /** C[from, to) ← beta · C[from, to), writing zeros outright for beta = 0 so old NaNs vanish. */
  private static void scale(float[] c, int from, int to, float beta) {
    if (beta == 0f) {
      Arrays.fill(c, from, to, 0f);
    } else if (beta != 1f) {
      for (int j = from; j < to; j++) {
        c[j] *= beta;
      }
    }
  }
}
