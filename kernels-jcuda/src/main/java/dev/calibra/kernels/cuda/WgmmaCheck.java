package dev.calibra.kernels.cuda;

import java.util.Locale;
import java.util.Random;

/**
 * Decides whether the Hopper GEMM (gemm_bf16_wgmma) may be chosen: on a compute capability 9.0
 * device it must reproduce the mma.sync kernel on a product with ragged edges, in every transpose
 * form (a transposed left operand is read MN-major). Both sum the same bf16 products in fp32,
 * in different orders, so they agree to about 1e-6 relative; a layout, descriptor or
 * synchronisation mistake gives errors of order 1. If it fails, products stay on mma.sync:
 * slower, but right.
 */
final class WgmmaCheck {

  /** @param note whether the kernel may be used and why, for {@link CudaBackend#description()} */
  record Result(boolean passed, String note) {}

  private static final double TOLERANCE = 1e-4;

  private WgmmaCheck() {}

  static Result run(CudaBackend backend, Matmul matmul) {
    if (!backend.device().isHopper()) {
      return new Result(false, "not used (needs compute capability 9.0)");
    }
    if (!backend.kernels().has(Matmul.Kernel.WGMMA.function)) {
      return new Result(false, "not used (its module is not loaded)");
    }
    int m = 200;
    int n = 300;
    int k = 200;
    Random random = new Random(42);
    double worst = 0;
    try {
      // Every transpose form: a transposed left operand is read MN-major (Matmul.multiplyMnMajor).
      for (int form = 0; form < 4; form++) {
        worst = Math.max(worst, relativeError(backend, matmul, random, m, n, k, (form & 1) != 0,
            (form & 2) != 0));
      }
    } catch (CudaException e) {
      return new Result(false, "failed its start-up check: " + e.getMessage());
    }
    if (!(worst <= TOLERANCE)) {
      return new Result(false, String.format(Locale.ROOT,
          "failed its start-up check (max error %.2e of the largest value)", worst));
    }
    return new Result(true, "passed its start-up check");
  }

  /** Largest difference between the two kernels' products, relative to the largest value. */
  private static double relativeError(CudaBackend backend, Matmul matmul, Random random, int m,
      int n, int k, boolean transposeA, boolean transposeB) {
    try (CudaTensor a = upload(backend, random, transposeA ? k : m, transposeA ? m : k);
        CudaTensor b = upload(backend, random, transposeB ? n : k, transposeB ? k : n);
        CudaTensor hopper = (CudaTensor) backend.zeros(m, n);
        CudaTensor reference = (CudaTensor) backend.zeros(m, n)) {
      matmul.multiply(Matmul.Kernel.WGMMA, a, transposeA, b, transposeB, hopper, false);
      matmul.multiply(Matmul.Kernel.MMA, a, transposeA, b, transposeB, reference, false);
      float[] got = backend.download(hopper);
      float[] expected = backend.download(reference);
      double worst = 0;
      double scale = 0;
      for (int i = 0; i < got.length; i++) {
        worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        scale = Math.max(scale, Math.abs(expected[i]));
      }
      return worst / scale;
    }
  }

  private static CudaTensor upload(CudaBackend backend, Random random, int rows, int cols) {
    return (CudaTensor) backend.upload(gaussian(random, rows * cols), rows, cols);
  }

  private static float[] gaussian(Random random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }
}
