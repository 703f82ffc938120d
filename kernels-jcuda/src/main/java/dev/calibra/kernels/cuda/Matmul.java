package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

import java.util.Locale;

/**
 * Matrix products c = [c +] op(a)·op(b) on the GPU, for all four transpose forms.
 *
 * <p>bf16 path: both operands are first packed (pack.cu) into bf16 matrices whose rows run along
 * k, zero-padded to a multiple of 64; op(a) gives [m][k'] and op(b)ᵀ gives [n][k']. One tensor-core
 * kernel then serves every form and every size: gemm_bf16_wgmma on Hopper when the product fills
 * the GPU with its 128×256 tiles (and passed its start-up check, {@link WgmmaCheck}), otherwise
 * gemm_bf16_mma (mma.sync, sm_80+). The packing costs one read of each fp32 operand and one write
 * of half its size. fp32 path: gemm_f32 reads the operands in place through strides.
 */
final class Matmul {

  /** The kernels a product can run on. */
  enum Kernel { WGMMA, MMA, FP32 }

  /** The k step of the tensor-core kernels; packed operands are padded to a multiple of it. */
  private static final int K_STEP = 64;
  private static final int MMA_TILE_M = 128;
  private static final int MMA_TILE_N = 128;
  private static final int MMA_SHARED_BYTES = 4 * (128 + 128) * 64 * 2;
  private static final int WGMMA_TILE_M = 128;
  private static final int WGMMA_TILE_N = 256;
  private static final int WGMMA_SHARED_BYTES = 4 * (128 + 256) * 64 * 2 + 1024;
  private static final int FP32_TILE = 64;

  private final CudaBackend backend;
  private WgmmaCheck.Result wgmma;

  Matmul(CudaBackend backend) {
    this.backend = backend;
  }

  /** The kernel a product of this size runs on with the backend's precision. */
  Kernel choose(int m, int n) {
    if (backend.precision() == MatmulPrecision.FP32) {
      return Kernel.FP32;
    }
    long wgmmaTiles = (long) ceilDiv(m, WGMMA_TILE_M) * ceilDiv(n, WGMMA_TILE_N);
    if (wgmmaTiles >= backend.device().multiprocessors() && wgmmaCheck().passed()) {
      return Kernel.WGMMA;
    }
    return Kernel.MMA;
  }

  /** Runs the Hopper kernel's check on first use; its outcome holds for the backend's life. */
  WgmmaCheck.Result wgmmaCheck() {
    if (wgmma == null) {
      wgmma = WgmmaCheck.run(backend, this);
    }
    return wgmma;
  }

  String describe() {
    if (backend.precision() == MatmulPrecision.FP32) {
      return "fp32 on the CUDA cores";
    }
    return String.format(Locale.ROOT, "bf16 on the tensor cores (mma.sync; wgmma: %s)",
        wgmmaCheck().note());
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
      }
      return;
    }
    if (kernel == Kernel.FP32) {
      multiplyFp32(a, transposeA, b, transposeB, c, accumulate, m, n, k);
      return;
    }
    int paddedK = ceilDiv(k, K_STEP) * K_STEP;
    DeviceBlock packedA = pack(a, transposeA, m, k, paddedK);
    DeviceBlock packedB = pack(b, !transposeB, n, k, paddedK);
    boolean hopper = kernel == Kernel.WGMMA;
    int tiles = hopper
        ? ceilDiv(m, WGMMA_TILE_M) * ceilDiv(n, WGMMA_TILE_N)
        : ceilDiv(m, MMA_TILE_M) * ceilDiv(n, MMA_TILE_N);
    backend.kernel(hopper ? "gemm_bf16_wgmma" : "gemm_bf16_mma").grid(tiles, 1, 1).block(256, 1, 1)
        .sharedBytes(hopper ? WGMMA_SHARED_BYTES : MMA_SHARED_BYTES)
        .arg(packedA).arg(packedB).arg(c).arg(m).arg(n).arg(paddedK).arg(n).arg(accumulate ? 1 : 0)
        .run();
    backend.release(packedA);
    backend.release(packedB);
  }

  /**
   * bf16 copy of a matrix with rows along k: {@code rows} rows of {@code paddedK} values. Without
   * {@code transpose} the source is [rows][k]; with it the source is [k][rows].
   */
  private DeviceBlock pack(CudaTensor source, boolean transpose, int rows, int k, int paddedK) {
    DeviceBlock packed = backend.scratch((long) rows * paddedK * 2);
    if (transpose) {
      backend.kernel("pack_bf16_transposed").grid(paddedK / 32, ceilDiv(rows, 32), 1).block(32, 8, 1)
          .arg(source).arg(k).arg(rows).arg(packed).arg(paddedK).run();
    } else {
      backend.kernel("pack_bf16_rows").gridFor((long) rows * paddedK / 8).arg(source)
          .arg((long) rows).arg(k).arg(packed).arg(paddedK).run();
    }
    return packed;
  }

  private void multiplyFp32(CudaTensor a, boolean transposeA, CudaTensor b, boolean transposeB,
      CudaTensor c, boolean accumulate, int m, int n, int k) {
    // Element (i, j) of op(x) is x[i·rowStride + j·colStride].
    long aRowStride = transposeA ? 1 : a.cols();
    long aColStride = transposeA ? a.cols() : 1;
    long bRowStride = transposeB ? 1 : b.cols();
    long bColStride = transposeB ? b.cols() : 1;
    backend.kernel("gemm_f32").grid(ceilDiv(n, FP32_TILE), ceilDiv(m, FP32_TILE), 1).block(256, 1, 1)
        .arg(a).arg(aRowStride).arg(aColStride).arg(b).arg(bRowStride).arg(bColStride).arg(c)
        .arg(m).arg(n).arg(k).arg(n).arg(accumulate ? 1 : 0).run();
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
