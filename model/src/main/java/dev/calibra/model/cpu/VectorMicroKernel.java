package dev.calibra.model.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 6 × (2 vectors) micro-kernel on the Vector API: twelve accumulators stay in registers for the
 * whole k loop, and every k step costs two vector loads of B, six broadcasts of A and twelve FMAs.
 *
 * <p>Why this shape: x86 AVX2 has 16 vector registers; 12 accumulators + 2 B vectors + 1
 * broadcast fit without spilling, and 12 independent FMA chains cover the FMA latency (5 cycles
 * on Zen 1, 4 on Intel) times the two FMA pipes. With 256-bit vectors the tile is 6 × 16.
 *
 * <p>Only loaded when the JVM resolved {@code jdk.incubator.vector}; see {@link Gemm}.
 */
final class VectorMicroKernel implements MicroKernel {

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final int ROWS = 6;
  private static final int COLS = 2 * LANES;

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
    FloatVector c00 = FloatVector.zero(SPECIES);
    FloatVector c01 = c00;
    FloatVector c10 = c00;
    FloatVector c11 = c00;
    FloatVector c20 = c00;
    FloatVector c21 = c00;
    FloatVector c30 = c00;
    FloatVector c31 = c00;
    FloatVector c40 = c00;
    FloatVector c41 = c00;
    FloatVector c50 = c00;
    FloatVector c51 = c00;
    int ai = aStart;
    int bi = bStart;
    for (int p = 0; p < kc; p++, ai += ROWS, bi += COLS) {
      FloatVector b0 = FloatVector.fromArray(SPECIES, packedB, bi);
      FloatVector b1 = FloatVector.fromArray(SPECIES, packedB, bi + LANES);
      FloatVector a = FloatVector.broadcast(SPECIES, packedA[ai]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(SPECIES, packedA[ai + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(SPECIES, packedA[ai + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(SPECIES, packedA[ai + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(SPECIES, packedA[ai + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(SPECIES, packedA[ai + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    storeRow(c00, c01, c, cStart, beta);
    storeRow(c10, c11, c, cStart + ldc, beta);
    storeRow(c20, c21, c, cStart + 2 * ldc, beta);
    storeRow(c30, c31, c, cStart + 3 * ldc, beta);
    storeRow(c40, c41, c, cStart + 4 * ldc, beta);
    storeRow(c50, c51, c, cStart + 5 * ldc, beta);
  }

  private static void storeRow(FloatVector left, FloatVector right, float[] c, int at,
      float beta) {
    if (beta != 0f) {
      FloatVector scale = FloatVector.broadcast(SPECIES, beta);
      left = FloatVector.fromArray(SPECIES, c, at).fma(scale, left);
      right = FloatVector.fromArray(SPECIES, c, at + LANES).fma(scale, right);
    }
    left.intoArray(c, at);
    right.intoArray(c, at + LANES);
  }
}
