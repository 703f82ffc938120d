package dev.calibra.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.jobs.artifact.RunMetrics;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.Perplexity;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactWeightSource;
import dev.calibra.storage.artifact.TokenizerReference;
import dev.calibra.storage.hf.TokenizerFile;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;

/**
 * Perplexity of the model in an artifact, computed from the artifact alone: prints it in full
 * precision next to the perplexity the writing run recorded in the artifact's metrics, and
 * fails when it is above {@code --max-perplexity}.
 */
final class EvaluateCommand {

  private final EvaluateOptions options;
  private final PrintStream out;

  EvaluateCommand(EvaluateOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /**
   * Returns the perplexity measured.
   *
   * @throws PerplexityTooHighException when it is above the options' maximum
   */
  double run() throws IOException {
    System.setProperty("calibra.cpu.threads", Integer.toString(options.threads()));
    Configuration conf = new Configuration();
    try (ArtifactWeightSource model = ArtifactWeightSource.open(
        FileLocation.of(options.artifact(), conf))) {
      ObjectNode tokenizer = model.reader().metadata().tokenizer();
      FileLocation tokenizerDirectory = options.tokenizerDirectory() != null
          ? FileLocation.of(options.tokenizerDirectory(), conf)
          : TokenizerReference.source(tokenizer, conf);
      out.printf(Locale.ROOT, "artifact %s: %s, %d blocks, %d tensors, recipe %s%n",
          model.reader().file(), model.config().architecture(), model.config().numLayers(),
          model.reader().entries().size(), model.reader().metadata().recipe());
      EvaluationData data = EvaluationData.load(options.evaluation(), model.config().maxPositions(),
          tokenizerDirectory, () -> tokenizerFile(tokenizer, tokenizerDirectory));
      out.printf(Locale.ROOT, "evaluation: %s, %d windows, %d predictions%n", data.description(),
          data.windows().size(), data.predictions());
      LayerwiseRunner runner = new LayerwiseRunner(new CpuBackend(), options.batchTokens(),
          (index, total, nanos) -> out.printf(Locale.ROOT, "block %d/%d done in %.2f s%n",
              index + 1, total, nanos / 1e9));
      Perplexity ppl = new PerplexityEvaluator(runner).evaluate(model, data.windows());
      out.println("perplexity " + ppl.value() + " (mean NLL " + ppl.meanNll() + " over "
          + ppl.predictions() + " predictions)");
      JsonNode recorded = model.reader().metadata().metrics().path(RunMetrics.PERPLEXITY);
      if (recorded.has(RunMetrics.QUANTIZED)) {
        double expected = recorded.get(RunMetrics.QUANTIZED).asDouble();
        out.println("recorded when written: " + expected + " on "
            + recorded.path(RunMetrics.EVALUATION).asText() + " ("
            + (expected == ppl.value() ? "identical" : String.format(Locale.ROOT,
                "relative difference %.3g", ppl.value() / expected - 1)) + ")");
      }
      requireWithinMaximum(ppl.value());
      return ppl.value();
    }
  }

  private void requireWithinMaximum(double perplexity) {
    Double max = options.maxPerplexity();
    // Written so that a NaN perplexity fails too.
    if (max != null && !(perplexity <= max)) {
      throw new PerplexityTooHighException("perplexity " + perplexity + " is above the "
          + "threshold --max-perplexity " + max);
    }
    if (max != null) {
      out.println("within --max-perplexity " + max);
    }
  }

  /** The artifact scored worse than the gate allows: a finding, not a malfunction. */
  static final class PerplexityTooHighException extends RuntimeException {
    PerplexityTooHighException(String message) {
      super(message);
    }
  }

  /** The tokenizer the artifact references, SentencePiece first as for model directories. */
  private static Optional<TokenizerFile> tokenizerFile(ObjectNode reference, FileLocation directory)
      throws IOException {
    for (TokenizerFile.Kind kind : TokenizerFile.Kind.values()) {
      if (TokenizerReference.fileNames(reference).contains(kind.fileName())) {
        return Optional.of(new TokenizerFile(kind, directory.child(kind.fileName()).toString(),
            TokenizerReference.read(reference, kind.fileName(), directory)));
      }
    }
    return Optional.empty();
  }
}
