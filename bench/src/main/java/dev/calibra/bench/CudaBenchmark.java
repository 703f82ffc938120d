package dev.calibra.bench;

import dev.calibra.bench.cuda.GemmTiming;
import dev.calibra.bench.cuda.TorchReference;
import dev.calibra.bench.cuda.WindowTiming;
import dev.calibra.bench.cuda.Workload;
import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.kernels.cuda.CudaOptions;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * Entry {@code cuda}: the GPU backend on the work of LLaMA-7B decoder blocks, next to PyTorch on
 * the same GPU. GEMM TFLOP/s for the products of a block at 8192 tokens (torch.matmul in bf16,
 * i.e. cuBLAS, against our tensor-core kernel alone and against the backend's whole matmul with
 * its fp32→bf16 packing), and the time of one training step of a 2-block window on 4 × 2048
 * tokens (PyTorch: bf16 autocast with SDPA attention), with a per-kernel breakdown.
 *
 * <pre>
 *   CudaBenchmark [--workload bench/cuda/workload.json] [--torch torch.json] [--steps 10]
 * </pre>
 * The torch file is what bench/cuda/torch_reference.py wrote in the same run on the same GPU;
 * without it the PyTorch columns say n/a. Needs a GPU.
 */
public final class CudaBenchmark {

  private static final String ENTRY = "cuda";

  record GemmRow(String name, String form, int m, int n, int k, String kernel,
      Double torchTflops, double kernelTflops, double matmulTflops, double kernelMs, double packMs,
      double matmulMs, Double kernelOverTorch, Double matmulOverTorch) {}

  record KernelShare(String kernel, long launches, double milliseconds, double percent) {}

  record WindowResult(int blocks, int tokens, Double torchMs, double medianMs, double bestMs,
      Double ratioToTorch, int steps, long driverAllocationsInTimedSteps,
      List<KernelShare> breakdown) {}

  record Results(String entry, String measuredAt, String device, String backend,
      String torchDevice, String torchVersion, List<GemmRow> gemm, WindowResult window) {}

  private CudaBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path workloadFile = Path.of("bench/cuda/workload.json");
    TorchReference torch = TorchReference.none();
    int steps = 10;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--workload" -> workloadFile = Path.of(args[++i]);
        case "--torch" -> torch = TorchReference.read(Path.of(args[++i]));
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (usage: [--workload FILE] [--torch FILE] [--steps N])");
      }
    }
    Workload workload = Workload.read(workloadFile);
    try (CudaBackend gpu = CudaBackend.open(CudaOptions.defaults())) {
      System.out.println("GPU backend: " + gpu.description());
      System.out.println("PyTorch reference: " + torch.version() + " on " + torch.device());
      List<GemmRow> rows = new ArrayList<>();
      for (Workload.Gemm g : workload.gemm()) {
        GemmTiming.Measured t = GemmTiming.run(gpu, g);
        OptionalDouble reference = torch.gemmTflops(g.name());
        double kernelTflops = g.flops() / t.kernelSeconds() / 1e12;
        double matmulTflops = g.flops() / t.matmulSeconds() / 1e12;
        rows.add(new GemmRow(g.name(), g.form(), g.m(), g.n(), g.k(), t.kernel(),
            boxed(reference), kernelTflops, matmulTflops, t.kernelSeconds() * 1e3,
            t.packSeconds() * 1e3, t.matmulSeconds() * 1e3,
            reference.isPresent() ? kernelTflops / reference.getAsDouble() : null,
            reference.isPresent() ? matmulTflops / reference.getAsDouble() : null));
        System.out.printf(Locale.ROOT, "measured %s: matmul %.3f ms%n", g.name(), t.matmulSeconds() * 1e3);
      }
      WindowTiming.Measured w = WindowTiming.run(gpu, workload.window(), steps);
      OptionalDouble torchMs = torch.windowMilliseconds();
      double total = w.breakdown().stream().mapToDouble(CudaBackend.KernelTime::milliseconds).sum();
      List<KernelShare> shares = w.breakdown().stream()
          .map(t -> new KernelShare(t.kernel(), t.launches(), t.milliseconds(), 100 * t.milliseconds() / total))
          .toList();
      WindowResult window = new WindowResult(workload.window().blocks(), workload.window().tokens(),
          boxed(torchMs), w.medianSeconds() * 1e3, w.bestSeconds() * 1e3,
          torchMs.isPresent() ? w.medianSeconds() * 1e3 / torchMs.getAsDouble() : null, w.steps(),
          w.driverAllocations(), shares);

      Results results = new Results(ENTRY, Instant.now().toString(), gpu.device().describe(),
          gpu.description(), torch.device(), torch.version(), rows, window);
      Path file = ResultFile.write(ENTRY, results);
      print(rows, window);
      System.out.println("\nwritten to " + file);
    }
  }

  private static void print(List<GemmRow> rows, WindowResult window) {
    System.out.println("\nGEMM, TFLOP/s (torch: torch.matmul bf16 = cuBLAS; kernel: our tensor-core kernel "
        + "on packed bf16; matmul: our whole fp32→fp32 matmul incl. packing)");
    Table gemm = new Table("product", "form", "m", "n", "k", "torch", "kernel", "matmul",
        "kernel/torch", "matmul/torch", "kernel used");
    for (GemmRow r : rows) {
      gemm.row(r.name(), r.form(), r.m(), r.n(), r.k(), format(r.torchTflops(), "%.0f"),
          format(r.kernelTflops(), "%.0f"), format(r.matmulTflops(), "%.0f"),
          percent(r.kernelOverTorch()), percent(r.matmulOverTorch()), r.kernel());
    }
    gemm.print(System.out);

    System.out.printf(Locale.ROOT, "%nWindow of %d LLaMA-7B-shaped blocks, %d tokens, forward + backward:%n",
        window.blocks(), window.tokens());
    Table step = new Table("", "ms per step");
    step.row("PyTorch (bf16 autocast, SDPA)", format(window.torchMs(), "%.1f"));
    step.row("Calibra CUDA backend (median)", format(window.medianMs(), "%.1f"));
    step.row("Calibra CUDA backend (best)", format(window.bestMs(), "%.1f"));
    step.row("ratio ours / PyTorch", format(window.ratioToTorch(), "%.2fx"));
    step.row("cuMemAlloc calls in timed steps", window.driverAllocationsInTimedSteps());
    step.print(System.out);

    System.out.println("\nGPU time per kernel in one profiled step:");
    Table kernels = new Table("kernel", "launches", "ms", "%");
    for (KernelShare s : window.breakdown()) {
      kernels.row(s.kernel(), s.launches(), format(s.milliseconds(), "%.2f"), format(s.percent(), "%.1f"));
    }
    kernels.print(System.out);
  }

  private static Double boxed(OptionalDouble value) {
    return value.isPresent() ? value.getAsDouble() : null;
  }

  private static String format(Double value, String pattern) {
    return value == null ? "n/a" : String.format(Locale.ROOT, pattern, value);
  }

  private static String percent(Double ratio) {
    return ratio == null ? "n/a" : String.format(Locale.ROOT, "%.0f%%", 100 * ratio);
  }
}
