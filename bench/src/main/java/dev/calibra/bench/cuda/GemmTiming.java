package dev.calibra.bench.cuda;

import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.model.backend.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One product of the workload on the GPU backend, once per GEMM kernel choice (the backend's
 * {@code calibra.cuda.gemm} setting): the whole {@code matmul} (fp32 operands in, fp32 result
 * out, bf16 packing included: what the decoder gets) and, from a profiled run, the tensor-core
 * kernel alone and the packing kernels alone. The calls rotate over more operand copies than the
 * backend caches packed operands for, so every call packs, as a product on fresh activations
 * does.
 */
public final class GemmTiming {

  /** Seconds per call, and the kernel that ran. */
  public record Measured(double matmulSeconds, double kernelSeconds, double packSeconds, String kernel) {}

  private static final String SETTING = "calibra.cuda.gemm";
  private static final int PROFILED_CALLS = 5;
  /** More than the backend's pack cache holds. */
  private static final int OPERAND_COPIES = 9;

  private GemmTiming() {}

  /** Measurements by kernel choice, in the order given ("auto", "mma", "wgmma", ...). */
  public static Map<String, Measured> run(CudaBackend gpu, Workload.Gemm g, List<String> choices) {
    int aRows = g.transposeA() ? g.k() : g.m();
    int aCols = g.transposeA() ? g.m() : g.k();
    int bRows = g.transposeB() ? g.n() : g.k();
    int bCols = g.transposeB() ? g.k() : g.n();
    Map<String, Measured> results = new LinkedHashMap<>();
    String setting = System.getProperty(SETTING, "auto");
    List<Tensor> as = new ArrayList<>();
    List<Tensor> bs = new ArrayList<>();
    as.add(gpu.upload(RandomFill.uniform(aRows * aCols, 1, 1), aRows, aCols));
    bs.add(gpu.upload(RandomFill.uniform(bRows * bCols, 2, 1), bRows, bCols));
    for (int i = 1; i < OPERAND_COPIES; i++) {
      as.add(gpu.zeros(aRows, aCols));
      bs.add(gpu.zeros(bRows, bCols));
      gpu.copy(as.get(0), as.get(i));
      gpu.copy(bs.get(0), bs.get(i));
    }
    try (Tensor c = gpu.zeros(g.m(), g.n())) {
      int[] next = {0};
      Runnable call = () -> {
        int i = next[0]++ % OPERAND_COPIES;
        gpu.matmul(as.get(i), g.transposeA(), bs.get(i), g.transposeB(), c, false);
      };
      for (String choice : choices) {
        System.setProperty(SETTING, choice);
        results.put(choice, measure(gpu, call));
      }
    } finally {
      System.setProperty(SETTING, setting);
      as.forEach(Tensor::close);
      bs.forEach(Tensor::close);
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
