package dev.calibra.bench.cuda;

import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * One product of the workload on the GPU backend: the whole {@code matmul} (fp32 operands in,
 * fp32 result out, bf16 packing included: what the decoder gets) and, from a profiled run, the
 * tensor-core kernel alone and the packing kernels alone.
 */
public final class GemmTiming {

  /** Seconds per call and the names of the kernels that ran. */
  public record Measured(double matmulSeconds, double kernelSeconds, double packSeconds, String kernel) {}

  private static final int PROFILED_CALLS = 5;

  private GemmTiming() {}

  public static Measured run(CudaBackend gpu, Workload.Gemm g) {
    int aRows = g.transposeA() ? g.k() : g.m();
    int aCols = g.transposeA() ? g.m() : g.k();
    int bRows = g.transposeB() ? g.n() : g.k();
    int bCols = g.transposeB() ? g.k() : g.n();
    try (Tensor a = gpu.upload(RandomFill.uniform(aRows * aCols, 1, 1), aRows, aCols);
        Tensor b = gpu.upload(RandomFill.uniform(bRows * bCols, 2, 1), bRows, bCols);
        Tensor c = gpu.zeros(g.m(), g.n())) {
      Runnable call = () -> gpu.matmul(a, g.transposeA(), b, g.transposeB(), c, false);
      double seconds = GpuTimer.medianSeconds(gpu, call, 3, 5, 10);
      gpu.profileKernels(true);
      for (int i = 0; i < PROFILED_CALLS; i++) {
        call.run();
      }
      List<CudaBackend.KernelTime> profile = gpu.kernelProfile();
      gpu.profileKernels(false);
      double kernelMs = 0;
      double packMs = 0;
      String kernel = "?";
      for (CudaBackend.KernelTime t : profile) {
        if (t.kernel().startsWith("gemm_")) {
          kernelMs += t.milliseconds();
          kernel = t.kernel();
        } else if (t.kernel().startsWith("pack_")) {
          packMs += t.milliseconds();
        }
      }
      return new Measured(seconds, kernelMs / 1e3 / PROFILED_CALLS, packMs / 1e3 / PROFILED_CALLS, kernel);
    }
  }
}
