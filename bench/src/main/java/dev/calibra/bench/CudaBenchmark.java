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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Entry {@code cuda}: the GPU backend on the work of LLaMA-7B decoder blocks, next to PyTorch on
 * the same GPU. GEMM TFLOP/s for the products of a block at 8192 tokens (torch.matmul in bf16,
 * i.e. cuBLAS, against each of our tensor-core kernels alone and against the backend's whole
 * matmul, its fp32→bf16 packing included, with the kernel it chooses), and the time of one
 * training step of a 2-block window on 4 × 2048 tokens (PyTorch: bf16 autocast with SDPA
 * attention), with a per-kernel breakdown.
 *
 * <pre>
 *   CudaBenchmark [--workload bench/cuda/workload.json] [--torch torch.json] [--steps 10]
 *                 [--kernels mma,wgmma]
 * </pre>
 * The torch file is what bench/cuda/torch_reference.py wrote in the same run on the same GPU;
 * without it the PyTorch columns say n/a. Needs a GPU.
 */
public final class CudaBenchmark {

  private static final String ENTRY = "cuda";

  /** One kernel on one product: the kernel alone, and the backend's matmul forced onto it. */
  record KernelRow(String choice, String kernel, double kernelTflops, double kernelMs,
      double packMs, double matmulMs) {}

  /**
   * One product: each kernel, the best kernel and the backend's own choice ("auto"), next to
   * torch.matmul.
   */
  record GemmRow(String name, String form, int m, int n, int k, Double torchTflops,
      List<KernelRow> kernels, String bestKernel, double bestKernelTflops, Double bestKernelOverTorch,
      String autoKernel, double matmulTflops, Double matmulOverTorch) {}

  record KernelShare(String kernel, long launches, double milliseconds, double percent) {}

  /** The step with the backend's own GEMM choice; {@code byGemmKernel}: forced onto each kernel. */
  /**
   * @param medianMsWeightsRewritten the median step whose weights were rewritten first by the
   *     backend's soft weight fake-quantization (as in calibration: no bf16 weight copy survives
   *     from the step before; the products read the copies it wrote), less the GPU time of the
   *     fake quantization itself (fake_quantize_weights, calibration's work, not the step's)
   * @param fakeQuantizationMs that subtracted GPU time, per step
   * @param fakeQuantizationAloneMs the median wall-clock time of the rewrite alone, timed in turn
   *     with the two steps
   * @param breakdownWeightsRewritten the profiled step with weights fake-quantized first: which
   *     packs it launches beside the plain step's shows what the fake quantization left to pack
   */
  record WindowResult(int blocks, int tokens, Double torchMs, double medianMs, double bestMs,
      Double ratioToTorch, double medianMsWeightsRewritten, Double ratioToTorchWeightsRewritten,
      double fakeQuantizationMs, double fakeQuantizationAloneMs, int steps, long driverAllocationsInTimedSteps, List<KernelShare> breakdown,
      List<KernelShare> breakdownWeightsRewritten, Map<String, Double> medianMsByGemmKernel) {}

  record Results(String entry, String measuredAt, String device, String backend,
      String torchDevice, String torchVersion, List<GemmRow> gemm, WindowResult window) {}

  private CudaBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path workloadFile = Path.of("bench/cuda/workload.json");
    TorchReference torch = TorchReference.none();
    int steps = 10;
    List<String> kernels = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--workload" -> workloadFile = Path.of(args[++i]);
        case "--torch" -> torch = TorchReference.read(Path.of(args[++i]));
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        case "--kernels" -> kernels = List.of(args[++i].split(","));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (usage: [--workload FILE] [--torch FILE] [--steps N] [--kernels LIST])");
      }
    }
    Workload workload = Workload.read(workloadFile);
    try (CudaBackend gpu = CudaBackend.open(CudaOptions.defaults())) {
      System.out.println("GPU backend: " + gpu.description());
      System.out.println("PyTorch reference: " + torch.version() + " on " + torch.device());
      List<String> choices = new ArrayList<>(List.of("auto"));
      if (kernels != null) {
        choices.addAll(kernels);
      } else {
        choices.addAll(gpu.device().isHopper() ? List.of("mma", "wgmma") : List.of("mma"));
      }
      List<GemmRow> rows = new ArrayList<>();
      for (Workload.Gemm g : workload.gemm()) {
        rows.add(gemmRow(g, GemmTiming.run(gpu, g, choices), torch.gemmTflops(g.name())));
      }
      Map<String, WindowTiming.Measured> windows =
          WindowTiming.run(gpu, workload.window(), steps, choices);
      WindowTiming.Measured w = windows.get("auto");
      WindowTiming.Measured rewritten = windows.remove(WindowTiming.REWRITTEN_WEIGHTS);
      double rewriteAloneMs = windows.remove(WindowTiming.REWRITE_ALONE).medianSeconds() * 1e3;
      double rewriteMs = rewritten.breakdown().stream()
          .filter(t -> t.kernel().equals("fake_quantize_weights"))
          .mapToDouble(CudaBackend.KernelTime::milliseconds).sum();
      double rewrittenMs = rewritten.medianSeconds() * 1e3 - rewriteMs;
      Map<String, Double> byKernel = new LinkedHashMap<>();
      windows.forEach((choice, m) -> byKernel.put(choice, m.medianSeconds() * 1e3));
      OptionalDouble torchMs = torch.windowMilliseconds();
      WindowResult window = new WindowResult(workload.window().blocks(), workload.window().tokens(),
          boxed(torchMs), w.medianSeconds() * 1e3, w.bestSeconds() * 1e3,
          torchMs.isPresent() ? w.medianSeconds() * 1e3 / torchMs.getAsDouble() : null,
          rewrittenMs, torchMs.isPresent() ? rewrittenMs / torchMs.getAsDouble() : null, rewriteMs,
          rewriteAloneMs, w.steps(),
          w.driverAllocations(), shares(w.breakdown()), shares(rewritten.breakdown()), byKernel);

      Results results = new Results(ENTRY, Instant.now().toString(), gpu.device().describe(),
          gpu.description(), torch.device(), torch.version(), rows, window);
      Path file = ResultFile.write(ENTRY, results);
      print(rows, window);
      System.out.println("\nwritten to " + file);
    }
  }

  private static List<KernelShare> shares(List<CudaBackend.KernelTime> breakdown) {
    double total = breakdown.stream().mapToDouble(CudaBackend.KernelTime::milliseconds).sum();
    return breakdown.stream()
        .map(t -> new KernelShare(t.kernel(), t.launches(), t.milliseconds(), 100 * t.milliseconds() / total))
        .toList();
  }

  private static GemmRow gemmRow(Workload.Gemm g, Map<String, GemmTiming.Measured> measured,
      OptionalDouble reference) {
    List<KernelRow> kernels = new ArrayList<>();
    KernelRow best = null;
    for (Map.Entry<String, GemmTiming.Measured> e : measured.entrySet()) {
      GemmTiming.Measured t = e.getValue();
      KernelRow row = new KernelRow(e.getKey(), t.kernel(), g.flops() / t.kernelSeconds() / 1e12,
          t.kernelSeconds() * 1e3, t.packSeconds() * 1e3, t.matmulSeconds() * 1e3);
      kernels.add(row);
      if (!e.getKey().equals("auto") && (best == null || row.kernelTflops() > best.kernelTflops())) {
        best = row;
      }
    }
    GemmTiming.Measured auto = measured.get("auto");
    double matmulTflops = g.flops() / auto.matmulSeconds() / 1e12;
    Double torch = boxed(reference);
    return new GemmRow(g.name(), g.form(), g.m(), g.n(), g.k(), torch, kernels, best.kernel(),
        best.kernelTflops(), torch == null ? null : best.kernelTflops() / torch, auto.kernel(),
        matmulTflops, torch == null ? null : matmulTflops / torch);
  }

  private static void print(List<GemmRow> rows, WindowResult window) {
    System.out.println("\nGEMM, TFLOP/s. torch: torch.matmul bf16 (cuBLAS). Kernel columns: our tensor-core "
        + "kernel alone on packed bf16. matmul: our whole fp32→fp32 matmul, packing included, on the "
        + "kernel the backend chose (auto).");
    List<String> choices = rows.get(0).kernels().stream().map(KernelRow::choice)
        .filter(c -> !c.equals("auto")).toList();
    List<String> headers = new ArrayList<>(List.of("product", "form", "m", "n", "k", "torch"));
    headers.addAll(choices);
    headers.addAll(List.of("best/torch", "matmul", "matmul/torch", "auto kernel"));
    Table gemm = new Table(headers.toArray(String[]::new));
    for (GemmRow r : rows) {
      List<Object> cells = new ArrayList<>(List.of(r.name(), r.form(), r.m(), r.n(), r.k(),
          format(r.torchTflops(), "%.0f")));
      for (String choice : choices) {
        r.kernels().stream().filter(k -> k.choice().equals(choice)).findFirst()
            .ifPresent(k -> cells.add(format(k.kernelTflops(), "%.0f")));
      }
      cells.addAll(List.of(percent(r.bestKernelOverTorch()), format(r.matmulTflops(), "%.0f"),
          percent(r.matmulOverTorch()), r.autoKernel()));
      gemm.row(cells.toArray());
    }
    gemm.print(System.out);

    System.out.printf(Locale.ROOT, "%nWindow of %d LLaMA-7B-shaped blocks, %d tokens, forward + backward:%n",
        window.blocks(), window.tokens());
    Table step = new Table("", "ms per step");
    step.row("PyTorch (bf16 autocast, SDPA)", format(window.torchMs(), "%.1f"));
    step.row("Calibra CUDA backend (median)", format(window.medianMs(), "%.1f"));
    step.row("Calibra CUDA backend (best)", format(window.bestMs(), "%.1f"));
    step.row("ratio ours / PyTorch", format(window.ratioToTorch(), "%.2fx"));
    step.row("weights fake-quantized every step (less the fake quantization)",
        format(window.medianMsWeightsRewritten(), "%.1f"));
    step.row("  fake quantization subtracted (GPU time)", format(window.fakeQuantizationMs(), "%.1f"));
    step.row("  fake quantization alone (wall clock)", format(window.fakeQuantizationAloneMs(), "%.1f"));
    step.row("  ratio ours / PyTorch", format(window.ratioToTorchWeightsRewritten(), "%.2fx"));
    step.row("  packing in it (plain step)", packing(window.breakdownWeightsRewritten()) + " ("
        + packing(window.breakdown()) + ")");
    window.medianMsByGemmKernel().forEach((choice, ms) -> {
      if (!choice.equals("auto")) {
        step.row("  with every GEMM on " + choice, format(ms, "%.1f"));
      }
    });
    step.row("cuMemAlloc calls in timed steps", window.driverAllocationsInTimedSteps());
    step.print(System.out);

    System.out.println("\nGPU time per kernel in one profiled step:");
    Table kernels = new Table("kernel", "launches", "ms", "%");
    for (KernelShare s : window.breakdown()) {
      kernels.row(s.kernel(), s.launches(), format(s.milliseconds(), "%.2f"), format(s.percent(), "%.1f"));
    }
    kernels.print(System.out);
  }

  /** The pack_* kernels of a profiled step: launches and GPU time. */
  private static String packing(List<KernelShare> breakdown) {
    List<KernelShare> packs = breakdown.stream().filter(s -> s.kernel().startsWith("pack_")).toList();
    return String.format(Locale.ROOT, "%d launches, %.2f ms",
        packs.stream().mapToLong(KernelShare::launches).sum(),
        packs.stream().mapToDouble(KernelShare::milliseconds).sum());
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
