package dev.calibra.model.cpu;

/**
 * The innermost step of the blocked {@link Gemm}: one register-resident tile of C, updated from a
 * packed sliver of A ({@link #rows()} values per k step) and a packed sliver of B
 * ({@link #cols()} values per k step), both laid out by {@link GemmPacking}.
 */
interface MicroKernel {

  /** Rows of C in one tile (the height of a packed A sliver). */
  int rows();

  /** Columns of C in one tile (the width of a packed B sliver). */
  int cols();

  /**
   * Sets the full {@code rows() × cols()} tile at {@code c[cStart]} (row stride {@code ldc}) to
   * {@code beta * C + A·B} over {@code kc} k steps; when beta is 0 the old tile is never read,
   * so NaN left there does not leak into the result.
   */
  void multiplyTile(int kc, float[] packedA, int aStart, float[] packedB, int bStart,
      float[] c, int cStart, int ldc, float beta);
}
