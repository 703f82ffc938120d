package dev.calibra.it;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import dev.calibra.tokenizers.TextCorpus;
import dev.calibra.tokenizers.Tokenizer;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Round-to-nearest reproduces the RTN column of the baseline tables in shared/README.md within
 * 1%: every row for stories260K, and one row per bit width for dict-llama-15M (the bench entry
 * rtn-baselines covers all of its rows; each costs about a float evaluation).
 */
class RtnBaselineTest {

  private static final int PER_CHANNEL = QuantizationScheme.PER_CHANNEL;

  @ParameterizedTest(name = "stories260K w{0} g{1}")
  @CsvSource({"8, 32, 18.167", "8, 0, 18.366", "4, 32, 156.59", "4, 0, 269.18",
      "3, 32, 1283.5", "3, 0, 2043.5", "2, 32, 10501", "2, 0, 18646"})
  void stories260K(int bits, int group, double expected) throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedData.model("stories260K").toString())) {
      List<int[]> sequences = TokenIdFiles.read(
          SharedData.model("stories260K").resolve("sequences.json").toString(), "evaluation");
      double ppl = ModelRuns.rtnPerplexity(model.weights(), new QuantizationScheme(bits, group),
          EvaluationWindows.ofSequences(sequences, model.config().maxPositions()));
      ReferencePerplexityTest.assertRelative(expected, ppl, 0.01, "stories260K RTN w" + bits + " g" + group);
    }
  }

  @ParameterizedTest(name = "dict-llama-15M w{0} g{1}")
  @CsvSource({"4, 128, 87.909", "3, 32, 90.397", "2, 64, 188.01"})
  void dictLlama(int bits, int group, double expected) throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedData.model("dict-llama-15M").toString())) {
      Tokenizer tokenizer = Tokenizer.load(SharedData.model("dict-llama-15M"));
      String heldout = Files.readString(SharedData.model("dict-llama-15M").resolve("heldout.txt"));
      double ppl = ModelRuns.rtnPerplexity(model.weights(), new QuantizationScheme(bits, group),
          EvaluationWindows.ofStream(TextCorpus.encodeParagraphs(tokenizer, heldout), 512, 40));
      ReferencePerplexityTest.assertRelative(expected, ppl, 0.01, "dict-llama-15M RTN w" + bits + " g" + group);
    }
  }
}
