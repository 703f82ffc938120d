package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.generate.SampleGenerator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibration samples that stories260K writes itself, and CBQ runs calibrated on them: {@code
 * calibra quantize} and the Spark job.
 */
class GeneratedCalibrationTest {

  /**
   * Samples drawn at temperature 1 have the perplexity that shared/README.md's reference
   * measured for the model's own samples (16.30 over 8 sequences of 256 tokens): a sampler with
   * a wrong cache, rotary position or softmax writes text the model finds far less likely.
   */
  @Test
  void samplesFollowTheModelsOwnDistribution() throws Exception {
    JsonNode reference = SharedData.json(SharedData.model("stories260K").resolve("reference.json"));
    double expected = reference.get("fp32_perplexity_on_sampled_sequences").asDouble();
    try (ModelDirectory model = ModelDirectory.open(SharedData.model("stories260K").toString())) {
      List<int[]> samples = SampleGenerator.generate(model.weights(), 32, 256, 0,
          (done, total) -> { });
      samples.forEach(s -> assertEquals(1, s[0], "each sample starts at BOS"));
      double perplexity = new PerplexityEvaluator(new LayerwiseRunner(new CpuBackend(), 8192,
          (i, n, t) -> { })).evaluate(model.weights(), samples).value();
      System.out.printf("stories260K: perplexity %.3f on 32 generated samples (reference %.3f)%n",
          perplexity, expected);
      assertEquals(expected, perplexity, 0.1 * expected);
    }
  }

  @Test
  void quantizeCalibratesOnTextAndGeneratedSamples() throws Exception {
    Path model = SharedData.model("stories260K");
    String sequences = model.resolve("sequences.json").toString();
    Path report = Files.createTempDirectory("calibra-generated").resolve("report.json");
    CliRun quantize = CliRun.succeeding("quantize", "--model", model.toString(), "--eval-tokens",
        sequences + "#evaluation", "--method", "cbq", "--calib-tokens", sequences + "#calibration",
        "--calib-samples", "8", "--calib-generated", "8", "--epochs", "1", "--e2e-epochs", "0",
        "--bits", "4", "--group", "32", "--report", report.toString(), "--threads", "2");
    String description = sequences + "#calibration (8 × 256 tokens) + 8 samples of 256 tokens "
        + "written by the model (seed 0)";
    assertTrue(quantize.out().contains("8/8 samples generated"), quantize.out());
    JsonNode written = SharedData.json(report);
    assertEquals(description, written.get("calibration").asText());
    double perplexity = written.get("results").get(0).get("perplexity").asDouble();
    // Round-to-nearest W4 g32 scores 156.6 here.
    assertTrue(perplexity < 130, "CBQ w4 g32 perplexity " + perplexity);
  }

  /** With --calib-samples 0 the model's own samples are the only ones, as long as asked. */
  @Test
  void generatedSamplesAloneNeedNoCalibrationText() throws Exception {
    Path model = SharedData.model("stories260K");
    Path report = Files.createTempDirectory("calibra-generated-only").resolve("report.json");
    CliRun.succeeding("quantize", "--model", model.toString(), "--eval-tokens",
        model.resolve("sequences.json") + "#evaluation", "--method", "cbq", "--calib-samples", "0",
        "--calib-generated", "2", "--calib-seq-len", "64", "--epochs", "1", "--e2e-epochs", "0",
        "--bits", "8", "--group", "32", "--report", report.toString(), "--threads", "2");
    assertEquals("2 samples of 64 tokens written by the model (seed 0)",
        SharedData.json(report).get("calibration").asText());
  }

  /** The Spark job's driver draws the samples that a single machine draws for the seed. */
  @Test
  void theSparkJobCalibratesOnTheSameGeneratedSamples(@TempDir Path directory) throws Exception {
    CliRun.succeeding(StoriesJobArgs.calibrateCommand(directory, "--calib-samples", "4",
        "--calib-generated", "4", "--seed", "3"));

    Path model = SharedData.model("stories260K");
    List<int[]> expected = new ArrayList<>(TokenIdFiles.read(
        model.resolve("sequences.json").toString(), "calibration").subList(0, 4));
    try (ModelDirectory weights = ModelDirectory.open(model.toString())) {
      expected.addAll(SampleGenerator.generate(weights.weights(), 4, 256, 3, (done, total) -> { }));
    }
    List<int[]> used = TokenIdFiles.read(
        directory.resolve("work/data/calibration.jsonl").toString(), null);
    assertEquals(expected.size(), used.size());
    for (int i = 0; i < used.size(); i++) {
      assertArrayEquals(expected.get(i), used.get(i), "sample " + i);
    }
    JsonNode summary = SharedData.json(directory.resolve("summary.json")).get("calibration");
    assertTrue(summary.get("source").asText().endsWith(
        " + 4 samples of 256 tokens written by the model (seed 3)"), summary.toString());
  }
}
