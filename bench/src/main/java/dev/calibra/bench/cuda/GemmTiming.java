package dev.calibra.bench.cuda;

import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.model.backend.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One product of the workload on the GPU backend, once per GEMM kernel choice (the backend's
 * {@code calibra.cuda.gemm} setting): the whole {@code matmul} (fp32 operands in, fp32 result
 * out, bf16 packing included: what the decoder gets) and, from a profiled run, the tensor-core
 * kernel alone and the packing kernels alone.
 */
public final class GemmTiming {

  /** Seconds per call, and the kernel that ran. */
  public record Measured(double matmulSeconds, double kernelSeconds, double packSeconds, String kernel) {}

  private static final String SETTING = "calibra.cuda.gemm";
  private static final int PROFILED_CALLS = 5;

  private GemmTiming() {}

  /** Measurements by kernel choice, in the order given ("auto", "mma", "wgmma", ...). */
  public static Map<String, Measured> run(CudaBackend gpu, Workload.Gemm g, List<String> choices) {
    int aRows = g.transposeA() ? g.k() : g.m();
    int aCols = g.transposeA() ? g.m() : g.k();
    int bRows = g.transposeB() ? g.n() : g.k();
    int bCols = g.transposeB() ? g.k() : g.n();
    Map<String, Measured> results = new LinkedHashMap<>();
    String setting = System.getProperty(SETTING, "auto");
    try (Tensor a = gpu.upload(RandomFill.uniform(aRows * aCols, 1, 1), aRows, aCols);
        Tensor b = gpu.upload(RandomFill.uniform(bRows * bCols, 2, 1), bRows, bCols);
        Tensor c = gpu.zeros(g.m(), g.n())) {
      Runnable call = () -> gpu.matmul(a, g.transposeA(), b, g.transposeB(), c, false);
      for (String choice : choices) {
        System.setProperty(SETTING, choice);
        results.put(choice, measure(gpu, call));
      }
    } finally {
      System.setProperty(SETTING, setting);
    }
    return results;
  }

  private static Measured measure(CudaBackend gpu, Runnable call) {
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
