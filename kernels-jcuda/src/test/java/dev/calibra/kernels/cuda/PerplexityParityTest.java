package dev.calibra.kernels.cuda;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.Perplexity;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The float perplexity of stories260K on its evaluation split (32 sequences of 256 tokens, the
 * shared README's protocol) through LayerwiseRunner on the GPU, against the CPU backend: within
 * 0.5% with bf16 products (the bar for calibrated models) and 1e-5 in fp32.
 */
class PerplexityParityTest {

  @Test
  void stories260kPerplexityMatchesTheCpu() throws IOException {
    Gpu.assumeAvailable();
    Assumptions.assumeTrue(SharedModel.exists("stories260K"), "no shared stories260K model");
    SharedModel model = SharedModel.open("stories260K");
    List<int[]> windows = model.sequences("evaluation");
    double cpu = perplexity(new CpuBackend(), model, windows);
    for (MatmulPrecision precision : MatmulPrecision.values()) {
      double gpu = perplexity(Gpu.backend(precision), model, windows);
      double relative = Math.abs(gpu - cpu) / cpu;
      double tolerance = precision == MatmulPrecision.BF16 ? 5e-3 : 1e-5;
      Parity.report("perplexity", String.format(Locale.ROOT, "stories260K evaluation %s: cpu %.4f, gpu %.4f",
          precision.label(), cpu, gpu), "relative difference", relative, tolerance);
      if (!(relative <= tolerance)) {
        throw new AssertionError(precision.label() + " perplexity " + gpu + " vs cpu " + cpu);
      }
    }
  }

  private static double perplexity(Backend backend, SharedModel model, List<int[]> windows) {
    LayerwiseRunner runner = new LayerwiseRunner(backend, 8192, (index, total, nanos) -> { });
    Perplexity result = new PerplexityEvaluator(runner).evaluate(model, windows);
    return result.value();
  }
}
