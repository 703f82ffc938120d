package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

/**
 * Matrix products c = [c +] op(a)·op(b) on the GPU, for all four transpose forms.
 *
 * <p>bf16 path: both operands are first packed (pack.cu) into bf16 matrices whose rows run along
 * k, zero-padded to a multiple of 64; op(a) gives [m][k'] and op(b)ᵀ gives [n][k']. One tensor-core
 * kernel then serves every form and every size: on Hopper, when a product fills the GPU with
 * 128×256 tiles, gemm_bf16_wgmma if it passed its start-up check ({@link WgmmaCheck}), otherwise
 * gemm_bf16_mma (mma.sync, sm_80+). The packing costs one read of each fp32 operand and
 * one write of half its size, unless the op that produced the operand wrote the packed copy
 * already ({@link #rowsCopyTarget},
 * {@link #transposedCopyTarget}); the Hopper kernel reads a transposed left operand without
 * a transposed pack ({@link #multiplyMnMajor}). fp32 path: gemm_f32 reads the operands in place
 * through strides.
 *
 * <p>{@code -Dcalibra.cuda.gemm=mma|wgmma} forces one bf16 kernel for every product (to compare
 * them, or to avoid the Hopper one); {@code auto}, the default, chooses as above.
 */
final class Matmul {

  /** The kernels a product can run on. */
  enum Kernel {
    WGMMA("gemm_bf16_wgmma", "wgmma", 256, 128, 256, 4 * (128 + 256) * 64 * 2 + 1024),
    MMA("gemm_bf16_mma", "mma", 256, 128, 128, 4 * (128 + 128) * 64 * 2),
    // The fp32 kernel uses static shared memory only.
    FP32("gemm_f32", "fp32", 256, 64, 64, 0);

    final String function;
    final String label;
    final int threads;
    final int tileM;
    final int tileN;
    final int sharedBytes;

    Kernel(String function, String label, int threads, int tileM, int tileN, int sharedBytes) {
      this.function = function;
      this.label = label;
      this.threads = threads;
      this.tileM = tileM;
      this.tileN = tileN;
      this.sharedBytes = sharedBytes;
    }

    static Kernel byLabel(String label) {
      for (Kernel k : values()) {
        if (k.label.equals(label) && k != FP32) {
          return k;
        }
      }
      throw new IllegalArgumentException("calibra.cuda.gemm must be auto, mma or wgmma, got '"
          + label + "'");
    }
  }

  /** The k step of the tensor-core kernels; packed operands are padded to a multiple of it. */
  private static final int K_STEP = 64;
  /** Rows and columns of the tiles that pack_bf16_transposed moves through shared memory. */
  private static final int TRANSPOSE_TILE = 64;

  private final CudaBackend backend;
  private WgmmaCheck.Result wgmmaCheck;

  Matmul(CudaBackend backend) {
    this.backend = backend;
  }

  /** The kernel a product of this size runs on with the backend's precision. */
  Kernel choose(int m, int n) {
    if (backend.precision() == MatmulPrecision.FP32) {
      return Kernel.FP32;
    }
    String forced = System.getProperty("calibra.cuda.gemm", "auto");
    if (!forced.equals("auto")) {
      return Kernel.byLabel(forced);
    }
    long hopperTiles = (long) ceilDiv(m, Kernel.WGMMA.tileM) * ceilDiv(n, Kernel.WGMMA.tileN);
    boolean fillsTheGpu = hopperTiles >= backend.device().multiprocessors();
    return fillsTheGpu && wgmmaCheck().passed() ? Kernel.WGMMA : Kernel.MMA;
  }

  /** Runs the Hopper kernel's check on first use; its outcome holds for the backend's life. */
  WgmmaCheck.Result wgmmaCheck() {
    if (wgmmaCheck == null) {
      wgmmaCheck = WgmmaCheck.run(backend, this);
    }
    return wgmmaCheck;
  }

  String describe() {
    if (backend.precision() == MatmulPrecision.FP32) {
      return "fp32 on the CUDA cores";
    }
    return "bf16 on the tensor cores: mma.sync; wgmma " + wgmmaCheck().note();
  }

  void multiply(Kernel kernel, CudaTensor a, boolean transposeA, CudaTensor b, boolean transposeB,
      CudaTensor c, boolean accumulate) {
    int m = transposeA ? a.cols() : a.rows();
    int k = transposeA ? a.rows() : a.cols();
    int n = transposeB ? b.rows() : b.cols();
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      if (!accumulate) {
        CudaException.check(cuMemsetD32Async(c.pointer(), 0, c.size(), backend.stream()),
            "cuMemsetD32Async");
        c.setZeroPending(false);
        c.written();
      }
      return;
    }
    if (kernel == Kernel.FP32) {
      multiplyFp32(a, transposeA, b, transposeB, c, accumulate, m, n, k);
      return;
    }
    int paddedK = ceilDiv(k, K_STEP) * K_STEP;
    int tiles = ceilDiv(m, kernel.tileM) * ceilDiv(n, kernel.tileN);
    // dY·W (op(b) = b untransposed) takes the transposed pack of b and the K-major kernel: its
    // MN-major loads run 8-15% slower, and in the model's products b is a weight, whose pack is
    // small beside the product and survives from step to step while the weight is unchanged.
    if (kernel == Kernel.WGMMA && transposeA) {
      multiplyMnMajor(a, transposeA, b, transposeB, c, accumulate, m, n, k, paddedK, tiles);
      return;
    }
    DeviceBlock packedA = pack(a, transposeA, m, k, paddedK);
    DeviceBlock packedB = pack(b, !transposeB, n, k, paddedK);
    KernelLaunch launch = backend.kernel(kernel.function).grid(tiles, 1, 1)
        .block(kernel.threads, 1, 1).sharedBytes(kernel.sharedBytes).arg(packedA).arg(packedB);
    // Every element of c is written; with accumulate it is read first.
    (accumulate ? launch.arg(c) : launch.output(c))
        .arg(m).arg(n).arg(paddedK).arg(n).arg(accumulate ? 1 : 0).run();
  }

  /**
   * The Hopper kernel with a transposed left operand read MN-major: both operands are packed
   * untransposed, so op(a) is a's [k][m] copy, which wgmma reads through its transpose flag
   * (as it reads an untransposed b, [k][n]). The weight gradient dYᵀ·X reads the copies of
   * dY (packed for dY·W) and of X (written by the op that produced it) instead of transposed
   * packs of both, which would cost more than the MN-major loads do.
   */
  private void multiplyMnMajor(CudaTensor a, boolean transposeA, CudaTensor b, boolean transposeB,
      CudaTensor c, boolean accumulate, int m, int n, int k, int paddedK, int tiles) {
    int lda = ceilDiv(a.cols(), K_STEP) * K_STEP;
    int ldb = ceilDiv(b.cols(), K_STEP) * K_STEP;
    DeviceBlock packedA = pack(a, false, a.rows(), a.cols(), lda);
    DeviceBlock packedB = pack(b, false, b.rows(), b.cols(), ldb);
    String variant = transposeB ? "_mk" : "_mm";
    KernelLaunch launch = backend.kernel(Kernel.WGMMA.function + variant).grid(tiles, 1, 1)
        .block(Kernel.WGMMA.threads, 1, 1).sharedBytes(Kernel.WGMMA.sharedBytes).arg(packedA)
        .arg(packedB);
    (accumulate ? launch.arg(c) : launch.output(c)).arg(m).arg(n).arg(k).arg(paddedK).arg(lda)
        .arg(ldb).arg(n).arg(accumulate ? 1 : 0).run();
  }

  /**
   * bf16 copy of a matrix with rows along k: {@code rows} rows of {@code paddedK} values. Without
   * {@code transpose} the source is [rows][k]; with it the source is [k][rows], and is read from
   * the source's untransposed copy when the cache holds one (half the bytes of the fp32 source:
   * a gradient's copy for dY·W serves its dYᵀ·X too). The copy belongs to the backend's
   * {@link PackCache}.
   */
  private DeviceBlock pack(CudaTensor source, boolean transpose, int rows, int k, int paddedK) {
    if (!transpose) {
      return backend.packs().get(source, rowsLayout(paddedK), (long) rows * paddedK * 2, packed ->
          backend.kernel("pack_bf16_rows").gridFor((long) rows * paddedK / 8).input(source)
              .arg((long) rows).arg(k).arg(packed).arg(paddedK).run());
    }
    int sourcePitch = ceilDiv(rows, K_STEP) * K_STEP;
    DeviceBlock rowsCopy = backend.packs().find(source, rowsLayout(sourcePitch));
    return backend.packs().get(source, transposedLayout(paddedK), (long) rows * paddedK * 2,
        packed -> {
          KernelLaunch launch = backend.kernel(rowsCopy != null
                  ? "pack_bf16_transposed_from_bf16" : "pack_bf16_transposed")
              .grid(paddedK / TRANSPOSE_TILE, ceilDiv(rows, TRANSPOSE_TILE), 1).block(256, 1, 1);
          (rowsCopy != null ? launch.arg(rowsCopy).arg((long) sourcePitch)
              : launch.input(source).arg((long) rows))
              .arg(k).arg(rows).arg(packed).arg(paddedK).run();
        });
  }

  /** The cache's name for the untransposed copy: rows along k, padded to {@code paddedK}. */
  private static String rowsLayout(int paddedK) {
    return "rows " + paddedK;
  }

  /** The cache's name for the transposed copy: a [k][rows] source's rows padded to {@code paddedK}. */
  private static String transposedLayout(int paddedK) {
    return "transposed " + paddedK;
  }

  /**
   * Where the kernel about to write {@code t} may also write its bf16 copy as a product reads it
   * untransposed (the same [rows][cols] layout, so only when cols needs no padding): a block to
   * pass to the launch and then to {@link #adoptRowsCopy}. Null when products do not read such
   * a copy (fp32 precision) or cols is not a multiple of the k step.
   */
  DeviceBlock rowsCopyTarget(CudaTensor t) {
    if (backend.precision() == MatmulPrecision.FP32 || t.cols() % K_STEP != 0 || t.size() == 0) {
      return null;
    }
    return backend.scratch(t.size() * 2);
  }

  /** The cache's bf16 copy of {@code t} in {@link #rowsCopyTarget}'s layout, or null. */
  DeviceBlock rowsCopy(CudaTensor t) {
    return t.cols() % K_STEP == 0 ? backend.packs().find(t, rowsLayout(t.cols())) : null;
  }

  /** Hands the copy that the last launch wrote beside {@code t} to the cache (null: none). */
  void adoptRowsCopy(CudaTensor t, DeviceBlock copy) {
    if (copy != null) {
      backend.packs().put(t, rowsLayout(t.cols()), copy);
    }
  }

  /**
   * Where the kernel about to write {@code t} may also write its transposed bf16 copy, as a
   * product reads t as its right operand untransposed (dY·W, on either bf16 kernel) or, on
   * mma.sync, as its left operand transposed: [t.cols()][{@link #transposedPitch} of t], zero
   * past t's rows. A block to pass to the launch and then to {@link #adoptTransposedCopy}; null
   * when products do not read such a copy (fp32 precision). Only weights need it: in the model a
   * weight is only ever the right operand, and dY·W's transposed pack of a weight rewritten every
   * step (calibration) would otherwise be made every step.
   */
  DeviceBlock transposedCopyTarget(CudaTensor t) {
    if (backend.precision() == MatmulPrecision.FP32 || t.size() == 0) {
      return null;
    }
    return backend.scratch((long) t.cols() * transposedPitch(t) * 2);
  }

  /** The row pitch of {@link #transposedCopyTarget}'s layout: t's rows padded to the k step. */
  static int transposedPitch(CudaTensor t) {
    return ceilDiv(t.rows(), K_STEP) * K_STEP;
  }

  /** Hands the transposed copy that the last launch wrote beside {@code t} to the cache. */
  void adoptTransposedCopy(CudaTensor t, DeviceBlock copy) {
    if (copy != null) {
      backend.packs().put(t, transposedLayout(transposedPitch(t)), copy);
    }
  }

  private void multiplyFp32(CudaTensor a, boolean transposeA, CudaTensor b, boolean transposeB,
      CudaTensor c, boolean accumulate, int m, int n, int k) {
    // Element (i, j) of op(x) is x[i·rowStride + j·colStride].
    long aRowStride = transposeA ? 1 : a.cols();
    long aColStride = transposeA ? a.cols() : 1;
    long bRowStride = transposeB ? 1 : b.cols();
    long bColStride = transposeB ? b.cols() : 1;
    KernelLaunch launch = backend.kernel(Kernel.FP32.function)
        .grid(ceilDiv(n, Kernel.FP32.tileN), ceilDiv(m, Kernel.FP32.tileM), 1).block(Kernel.FP32.threads, 1, 1)
        .input(a).arg(aRowStride).arg(aColStride).input(b).arg(bRowStride).arg(bColStride);
    (accumulate ? launch.arg(c) : launch.output(c))
        .arg(m).arg(n).arg(k).arg(n).arg(accumulate ? 1 : 0).run();
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
