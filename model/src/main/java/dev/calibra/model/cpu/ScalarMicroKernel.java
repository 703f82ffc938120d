package dev.calibra.model.cpu;

/**
 * A 4 × 4 micro-kernel in plain Java, for JVMs started without the Vector API. Sixteen scalar
 * accumulators live in registers across the k loop; each k step loads four A and four B values
 * and does sixteen multiply-adds.
 */
final class ScalarMicroKernel implements MicroKernel {

  private static final int ROWS = 4;
  private static final int COLS = 4;

  @Override
  public int rows() {
    return ROWS;
  }

  @Override
  public int cols() {
    return COLS;
  }

  @Override
  public void multiplyTile(int kc, float[] packedA, int aStart, float[] packedB, int bStart,
      float[] c, int cStart, int ldc, float beta) {
    float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
    float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
    float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
    float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
    int ai = aStart;
    int bi = bStart;
    for (int p = 0; p < kc; p++, ai += ROWS, bi += COLS) {
      float b0 = packedB[bi];
      float b1 = packedB[bi + 1];
      float b2 = packedB[bi + 2];
      float b3 = packedB[bi + 3];
      float a = packedA[ai];
      c00 += a * b0;
      c01 += a * b1;
      c02 += a * b2;
      c03 += a * b3;
      a = packedA[ai + 1];
      c10 += a * b0;
      c11 += a * b1;
      c12 += a * b2;
      c13 += a * b3;
      a = packedA[ai + 2];
      c20 += a * b0;
      c21 += a * b1;
      c22 += a * b2;
      c23 += a * b3;
      a = packedA[ai + 3];
      c30 += a * b0;
      c31 += a * b1;
      c32 += a * b2;
      c33 += a * b3;
    }
    storeRow(c00, c01, c02, c03, c, cStart, beta);
    storeRow(c10, c11, c12, c13, c, cStart + ldc, beta);
    storeRow(c20, c21, c22, c23, c, cStart + 2 * ldc, beta);
    storeRow(c30, c31, c32, c33, c, cStart + 3 * ldc, beta);
  }

  private static void storeRow(float v0, float v1, float v2, float v3, float[] c, int at,
      float beta) {
    if (beta == 0f) {
      c[at] = v0;
      c[at + 1] = v1;
      c[at + 2] = v2;
      c[at + 3] = v3;
    } else {
      c[at] = beta * c[at] + v0;
      c[at + 1] = beta * c[at + 1] + v1;
      c[at + 2] = beta * c[at + 2] + v2;
      c[at + 3] = beta * c[at + 3] + v3;
    }
  }
}
