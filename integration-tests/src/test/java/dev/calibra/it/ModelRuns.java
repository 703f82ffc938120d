package dev.calibra.it;

import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.List;

/** Perplexity of a model, float or round-to-nearest quantized, on the CPU backend. */
final class ModelRuns {

  private ModelRuns() {}

  static double perplexity(LlamaWeightSource weights, List<int[]> windows) {
    LayerwiseRunner runner = new LayerwiseRunner(new CpuBackend(), 8192, (i, n, t) -> { });
    return new PerplexityEvaluator(runner).evaluate(weights, windows).value();
  }

  static double rtnPerplexity(LlamaWeightSource weights, QuantizationScheme scheme, List<int[]> windows) {
    return perplexity(new QuantizedWeightSource(weights, new RoundToNearest(scheme), null, b -> { }),
        windows);
  }
}
