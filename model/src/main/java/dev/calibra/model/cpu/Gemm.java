package dev.calibra.model.cpu;

/**
 * Single-precision general matrix multiply on row-major arrays:
 * {@code C = beta * C + op(A) * op(B)}, where op(X) is X or its transpose.
 *
 * <p>op(A) is m×k, op(B) is k×n, C is m×n. {@code lda}, {@code ldb}, {@code ldc} are the row
 * strides of the arrays as stored (so for a transposed A stored as k×m, lda ≥ m). When beta is 0
 * the old contents of C are ignored, NaN included.
 *
 * <p>Tiny products, and those with fewer rows than a kernel tile, run as plain loops
 * ({@link DirectGemm}); the rest are packed, cache-blocked and spread over the {@link Parallel}
 * pool ({@link BlockedGemm}), with a SIMD micro-kernel on the Vector API when the JVM was started
 * with {@code --add-modules jdk.incubator.vector} and a scalar one otherwise. Products below about
 * two million multiply-adds stay on the calling thread.
 */
public final class Gemm {

  /** The micro-kernel family of the blocked path. */
  public enum Kernel {
    /** FMA on {@code jdk.incubator.vector} vectors of the preferred width. */
    SIMD,
    /** Plain Java arithmetic; works on every JVM. */
    SCALAR
  }

  /** Up to this many multiply-adds, packing costs more than it saves. */
  private static final long DIRECT_MAX_WORK = 1L << 9;

  /** Below this many multiply-adds a product runs on the calling thread alone. */
  private static final long PARALLEL_MIN_WORK = 1L << 21;

  private static final MicroKernel SCALAR_KERNEL = new ScalarMicroKernel();
  // Loading VectorMicroKernel without the incubator module fails, so it is only named when the
  // module is in the boot layer.
  private static final MicroKernel SIMD_KERNEL =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
          ? new VectorMicroKernel()
          : null;

  private Gemm() {}

  /** The kernel {@link #multiply} uses: SIMD when this JVM has the Vector API, else scalar. */
  public static Kernel defaultKernel() {
    return SIMD_KERNEL != null ? Kernel.SIMD : Kernel.SCALAR;
  }

  public static void multiply(boolean transA, boolean transB, int m, int n, int k,
      float[] a, int aOffset, int lda,
      float[] b, int bOffset, int ldb,
      float beta, float[] c, int cOffset, int ldc) {
    multiply(defaultKernel(), transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, beta, c,
        cOffset, ldc);
  }

  /**
   * As {@link #multiply(boolean, boolean, int, int, int, float[], int, int, float[], int, int,
   * float, float[], int, int)}, with the blocked path's kernel chosen by the caller (benchmarks and
   * tests compare the two).
   *
   * @throws IllegalStateException for {@link Kernel#SIMD} on a JVM without the Vector API
   */
  public static void multiply(Kernel kernel, boolean transA, boolean transB, int m, int n, int k,
      float[] a, int aOffset, int lda,
      float[] b, int bOffset, int ldb,
      float beta, float[] c, int cOffset, int ldc) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException("negative GEMM size m=" + m + " n=" + n + " k=" + k);
    }
    MicroKernel microKernel = microKernel(kernel);
    if (m == 0 || n == 0) {
      return;
    }
    StridedMatrix opA = StridedMatrix.of(a, aOffset, lda, transA);
    StridedMatrix opB = StridedMatrix.of(b, bOffset, ldb, transB);
    long work = (long) m * n * k;
    boolean parallel = Parallel.threads() > 1 && work >= PARALLEL_MIN_WORK;
    // With fewer rows than a tile the kernel would mostly multiply padding.
    if (work <= DIRECT_MAX_WORK || m < microKernel.rows()) {
      DirectGemm.multiply(m, n, k, opA, opB, beta, c, cOffset, ldc, parallel);
    } else {
      BlockedGemm.multiply(microKernel, m, n, k, opA, opB, beta, c, cOffset, ldc, parallel);
    }
  }

  private static MicroKernel microKernel(Kernel kernel) {
    if (kernel == Kernel.SCALAR) {
      return SCALAR_KERNEL;
    }
    if (SIMD_KERNEL == null) {
      throw new IllegalStateException(
          "the SIMD GEMM kernel needs a JVM started with --add-modules jdk.incubator.vector");
    }
    return SIMD_KERNEL;
  }
}
