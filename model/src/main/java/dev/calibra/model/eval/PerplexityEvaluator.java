package dev.calibra.model.eval;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Measures perplexity over evaluation windows (see {@link EvaluationWindows}). */
public final class PerplexityEvaluator {

  private final LayerwiseRunner runner;

  public PerplexityEvaluator(LayerwiseRunner runner) {
    this.runner = runner;
  }

  public Perplexity evaluate(LlamaWeightSource source, List<int[]> windows) {
    List<int[]> inputs = new ArrayList<>(windows.size());
    for (int[] window : windows) {
      if (window.length < 2) {
        throw new IllegalArgumentException("a window needs at least two tokens");
      }
      inputs.add(Arrays.copyOf(window, window.length - 1));
    }
    Backend backend = runner.backend();
    double[] total = new double[1];
    long[] predictions = new long[1];
    runner.run(source, inputs, (sequence, firstPosition, logits) -> {
      int[] targets = Arrays.copyOfRange(windows.get(sequence), firstPosition + 1,
          firstPosition + 1 + logits.rows());
      for (double nll : backend.crossEntropy(logits, targets)) {
        total[0] += nll;
      }
      predictions[0] += targets.length;
    });
    return new Perplexity(total[0], predictions[0]);
  }
}
