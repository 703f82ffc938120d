package dev.calibra.jobs.calibrate;

import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.kernels.Backends;
import dev.calibra.model.eval.Perplexity;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * One task of the evaluate stage: the summed negative log-likelihood of a run of evaluation
 * windows under the artifact (read back from its file, as any user of it would), under the float
 * model, and under round-to-nearest of the recipe's scheme (the baseline calibration has to beat,
 * measured on the same windows). The driver adds the tasks' sums in window order; grouped that way, the sum can
 * differ from a single process's in its last digits.
 */
public final class EvaluateTask {

  /** Tokens per forward batch: bounds the activation memory of a task. */
  private static final int BATCH_TOKENS = 8192;

  private final JobSpec spec;
  private final TaskEnvironment environment;

  public EvaluateTask(JobSpec spec, TaskEnvironment environment) {
    this.spec = spec;
    this.environment = environment;
  }

  /** Sums of one run of windows. */
  public record Sums(int firstWindow, int windows, double quantizedNll, double floatNll,
      double roundToNearestNll, long predictions) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** Windows {@code first} to {@code first + count − 1} of the work directory's evaluation set. */
  public Sums run(int first, int count) throws IOException {
    List<int[]> windows = TokenIdFiles.read(spec.work().evaluationWindows().toString(), null)
        .subList(first, first + count);
    try (Backends.Selected opened = TaskBackends.open(spec.backend(), environment.gpu());
        ModelDirectory model = ModelDirectory.open(spec.model());
        ArtifactWeightSource artifact = ArtifactWeightSource.open(
            FileLocation.of(spec.output(), new Configuration()))) {
      PerplexityEvaluator evaluator = new PerplexityEvaluator(
          new LayerwiseRunner(opened.backend(), BATCH_TOKENS, (block, blocks, nanos) -> { }));
      Perplexity quantized = evaluator.evaluate(artifact, windows);
      Perplexity floats = evaluator.evaluate(model.weights(), windows);
      CbqRecipe recipe = spec.recipe();
      Perplexity roundToNearest = evaluator.evaluate(new QuantizedWeightSource(model.weights(),
          new RoundToNearest(recipe.scheme()), null, block -> { }, recipe.activationBits()),
          windows);
      return new Sums(first, count, quantized.totalNll(), floats.totalNll(),
          roundToNearest.totalNll(), quantized.predictions());
    }
  }
}
