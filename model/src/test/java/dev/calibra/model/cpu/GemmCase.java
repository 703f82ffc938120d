package dev.calibra.model.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;

/**
 * One GEMM problem stored the awkward way callers may store it: at an offset inside a larger
 * array, with row strides wider than the rows. Everything of A and B outside the matrices is NaN,
 * so a read out of bounds poisons the result; everything of C outside the matrix holds a marker
 * that must survive untouched.
 */
final class GemmCase {

  private static final float OUTSIDE_C = -12345f;
  private static final float UNIT_ROUNDOFF = 0x1p-24f;
  private static final int A_OFFSET = 5;
  private static final int B_OFFSET = 2;
  private static final int C_OFFSET = 3;

  private final boolean transA;
  private final boolean transB;
  private final int m;
  private final int n;
  private final int k;
  private final float beta;
  private final float[] a;
  private final int lda;
  private final float[] b;
  private final int ldb;
  private final float[] c;
  private final float[] cBefore;
  private final int ldc;

  GemmCase(Random random, boolean transA, boolean transB, int m, int n, int k, float beta) {
    this.transA = transA;
    this.transB = transB;
    this.m = m;
    this.n = n;
    this.k = k;
    this.beta = beta;
    int aCols = transA ? m : k;
    int bCols = transB ? k : n;
    this.lda = aCols + 3;
    this.ldb = bCols + 1;
    this.ldc = n + 2;
    this.a = strided(random, transA ? k : m, aCols, A_OFFSET, lda, Float.NaN);
    this.b = strided(random, transB ? n : k, bCols, B_OFFSET, ldb, Float.NaN);
    this.c = strided(random, m, n, C_OFFSET, ldc, OUTSIDE_C);
    if (beta == 0f) {
      // beta = 0 must ignore C entirely, NaN included.
      for (int i = 0; i < m; i++) {
        Arrays.fill(c, C_OFFSET + i * ldc, C_OFFSET + i * ldc + n, Float.NaN);
      }
    }
    this.cBefore = c.clone();
  }

  /** Random values in [-1, 1) at the matrix positions, {@code outside} everywhere else. */
  private static float[] strided(Random random, int rows, int cols, int offset, int stride,
      float outside) {
    float[] values = new float[offset + rows * stride + 4];
    Arrays.fill(values, outside);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        values[offset + i * stride + j] = 2 * random.nextFloat() - 1;
      }
    }
    return values;
  }

  void multiply(Gemm.Kernel kernel) {
    Gemm.multiply(kernel, transA, transB, m, n, k, a, A_OFFSET, lda, b, B_OFFSET, ldb, beta, c,
        C_OFFSET, ldc);
  }

  private float opA(int i, int p) {
    return transA ? a[A_OFFSET + p * lda + i] : a[A_OFFSET + i * lda + p];
  }

  private float opB(int p, int j) {
    return transB ? b[B_OFFSET + j * ldb + p] : b[B_OFFSET + p * ldb + j];
  }

  /**
   * Compares C with a double-precision product. Float accumulation of k terms errs by at most
   * about k unit roundoffs of the sum of absolute terms, so that (doubled) is the tolerance.
   */
  void assertMatchesReference() {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int at = C_OFFSET + i * ldc + j;
        double expected = beta == 0f ? 0 : (double) beta * cBefore[at];
        double magnitude = beta == 0f ? 0 : Math.abs((double) beta * cBefore[at]);
        for (int p = 0; p < k; p++) {
          double term = (double) opA(i, p) * opB(p, j);
          expected += term;
          magnitude += Math.abs(term);
        }
        double tolerance = 2.0 * (k + 2) * UNIT_ROUNDOFF * magnitude;
        if (!(Math.abs(c[at] - expected) <= tolerance)) {
          fail(this + ": C[" + i + "][" + j + "] = " + c[at] + ", expected " + expected
              + " ± " + tolerance);
        }
      }
    }
    for (int at = 0; at < c.length; at++) {
      int i = (at - C_OFFSET) / ldc;
      int j = (at - C_OFFSET) % ldc;
      boolean inside = at >= C_OFFSET && i < m && j < n;
      if (!inside) {
        assertEquals(OUTSIDE_C, c[at], this + ": wrote outside C at index " + at);
      }
    }
  }

  @Override
  public String toString() {
    return (transA ? "Aᵀ" : "A") + "·" + (transB ? "Bᵀ" : "B") + " m=" + m + " n=" + n + " k=" + k
        + " beta=" + beta;
  }
}
