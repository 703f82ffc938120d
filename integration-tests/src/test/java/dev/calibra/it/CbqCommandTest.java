package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.TensorKind;
import dev.calibra.storage.artifact.VqPayload;
import dev.calibra.storage.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/**
 * quantize --method cbq end to end on stories260K: calibrated on its calibration split, scored on
 * its evaluation split, recorded as an artifact that evaluates to the same perplexity. A short
 * recipe keeps it a test; the bench entry cbq-quality runs the real one.
 */
class CbqCommandTest {

  @Test
  void cbqCalibratesBeatsRtnAndItsArtifactReproducesThePerplexity() throws Exception {
    Path model = SharedData.model("stories260K");
    String sequences = model.resolve("sequences.json").toString();
    Path directory = Files.createTempDirectory("calibra-cbq");
    Path artifact = directory.resolve("stories260K-cbq-w4a8g32.arrow");
    Path report = directory.resolve("report.json");

    CliRun quantize = CliRun.succeeding("quantize", "--model", model.toString(), "--eval-tokens",
        sequences + "#evaluation", "--method", "cbq", "--calib-tokens", sequences + "#calibration",
        "--calib-samples", "16", "--epochs", "2", "--bits", "4", "--group", "32", "--act-bits", "8",
        "--output", artifact.toString(), "--report", report.toString(), "--threads", "2");
    // Four windows, then the end-to-end pass over the whole model as a fifth.
    assertTrue(quantize.out().contains("[cbq w4 g32 a8] window 4/5 (blocks 3–4)"), quantize.out());
    assertTrue(quantize.out().contains("[cbq w4 g32 a8] window 5/5 (blocks 0–4)"), quantize.out());
    JsonNode result = SharedData.json(report).get("results").get(0);
    assertEquals("cbq", result.get("method").asText());
    assertEquals(8, result.get("activation_bits").asInt());
    assertTrue(result.get("calibration_seconds").asDouble() > 0);
    double perplexity = result.get("perplexity").asDouble();
    // RTN w4 g32 scores 156.6 on this split with float activations; CBQ, even this short and with
    // 8-bit activations, does far better.
    assertTrue(perplexity < 120, "CBQ w4a8 g32 perplexity " + perplexity);

    CliRun evaluate = CliRun.succeeding("evaluate", "--artifact", artifact.toString(),
        "--eval-tokens", sequences + "#evaluation", "--threads", "2");
    assertEquals(perplexity, evaluate.printedPerplexity(), 0.0);
    try (ArtifactReader reader = ArtifactReader.open(FileLocation.of(artifact.toString(),
        new Configuration()))) {
      JsonNode recipe = reader.metadata().recipe();
      assertEquals("cbq", recipe.get("method").asText());
      assertEquals(8, recipe.get("activation_bits").asInt());
      assertEquals(2, recipe.get("cbq").get("epochs").asInt(), "the whole recipe is recorded");
      assertEquals(4, recipe.get("cbq").get("end_to_end_epochs").asInt());
    }
  }

  /**
   * A rotating recipe: the artifact holds the rotated model, an ordinary Llama model whose
   * output projection is a table of its own (its config says so, and so does its GPTQ export),
   * and evaluating it reproduces the run's perplexity to the last bit.
   */
  @Test
  void rotatedModelsArtifactHasItsOwnOutputProjectionAndReproducesThePerplexity()
      throws Exception {
    Path model = SharedData.model("stories260K");
    String sequences = model.resolve("sequences.json").toString();
    Path directory = Files.createTempDirectory("calibra-rotated");
    Path artifact = directory.resolve("rotated.arrow");
    Path report = directory.resolve("report.json");
    CliRun rotated = CliRun.succeeding("quantize", "--model", model.toString(), "--eval-tokens",
        sequences + "#evaluation", "--method", "cbq", "--calib-tokens", sequences + "#calibration",
        "--calib-samples", "8", "--epochs", "1", "--e2e-epochs", "0", "--rotate", "--bits", "8",
        "--group", "per-channel", "--skip-float", "--output", artifact.toString(), "--report",
        report.toString(), "--threads", "2");
    assertTrue(rotated.out().contains("[cbq w8 per-channel] the model is rotated first (seed 0)"),
        rotated.out());
    double perplexity = SharedData.json(report).get("results").get(0).get("perplexity").asDouble();
    CliRun evaluate = CliRun.succeeding("evaluate", "--artifact", artifact.toString(),
        "--eval-tokens", sequences + "#evaluation", "--threads", "2");
    assertEquals(perplexity, evaluate.printedPerplexity(), 0.0);
    try (ArtifactReader reader = ArtifactReader.open(FileLocation.of(artifact.toString(),
        new Configuration()))) {
      assertTrue(reader.metadata().recipe().get("cbq").get("rotate").asBoolean());
      assertEquals(false, reader.metadata().modelConfig().get("tie_word_embeddings").asBoolean());
      assertTrue(reader.contains("lm_head.weight"));
      assertEquals(TensorKind.FLOAT, reader.entry("lm_head.weight").kind());
    }
    // Exported, it is an ordinary untied Llama checkpoint (8 bits per channel: stories260K's rows
    // of 172 fill whole 32-bit words only at 8 bits).
    Path export = directory.resolve("gptq");
    CliRun.succeeding("export-gptq", "--artifact", artifact.toString(), "--out",
        export.toString());
    assertFalse(SharedData.json(export.resolve("config.json")).get("tie_word_embeddings")
        .asBoolean());
    try (SafetensorsFile weights = SafetensorsFile.open(FileLocation.of(
        export.resolve("model.safetensors").toString(), new Configuration()))) {
      assertArrayEquals(new long[] {512, 64}, weights.tensor("lm_head.weight").shape());
    }
  }

  /**
   * A mixed recipe: the MLP layers vector-quantized (d4k6: 64 codewords of 4 values, row scales;
   * down_proj with a codebook per 32 rows), attention uniform at W4 g32. The artifact holds the MLP weights as vq rows that dequantize to
   * the calibrated weights, and evaluating it reproduces the run's perplexity to the last bit.
   * The artifact stays in the fixtures for the Python spec reader (test_vq_artifact.py).
   */
  @Test
  void mixedVqRecipeWritesVqTensorsThatReproduceThePerplexity() throws Exception {
    Path model = SharedData.model("stories260K");
    String sequences = model.resolve("sequences.json").toString();
    Path report = Files.createTempDirectory("calibra-vq").resolve("report.json");
    Files.createDirectories(CliRun.FIXTURES);
    Path artifact = CliRun.FIXTURES.resolve("stories260K-cbq-mixed-vq.arrow");

    CliRun quantize = CliRun.succeeding("quantize", "--model", model.toString(), "--eval-tokens",
        sequences + "#evaluation", "--method", "cbq", "--calib-tokens", sequences + "#calibration",
        "--calib-samples", "8", "--epochs", "1", "--bits", "4", "--group", "32", "--vq",
        "mlp.down_proj:d4k6r32,mlp.*:d4k6", "--vq-candidates", "3", "--output", artifact.toString(), "--overwrite",
        "--report", report.toString(), "--threads", "2");
    assertTrue(quantize.out().contains("bits per weight with scales and codebooks"),
        quantize.out());
    double perplexity = SharedData.json(report).get("results").get(0).get("perplexity")
        .asDouble();
    CliRun evaluate = CliRun.succeeding("evaluate", "--artifact", artifact.toString(),
        "--eval-tokens", sequences + "#evaluation", "--threads", "2");
    assertEquals(perplexity, evaluate.printedPerplexity(), 0.0);
    try (ArtifactReader reader = ArtifactReader.open(FileLocation.of(artifact.toString(),
        new Configuration()))) {
      assertEquals("mlp.down_proj:d4k6r32,mlp.*:d4k6",
          reader.metadata().recipe().get("vq").get("rules").asText());
      assertEquals(3, reader.metadata().recipe().get("vq").get("training").get("candidates")
          .asInt());
      for (int b = 0; b < 5; b++) {
        for (String layer : new String[] {"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
          ArtifactTensor t = reader.read("model.layers." + b + "." + layer + ".weight");
          assertEquals(TensorKind.VQ, t.kind(), t.name());
          VqPayload vq = (VqPayload) t.payload();
          assertEquals(4, vq.dim());
          assertEquals(6, vq.indexBits());
          assertEquals(64, vq.entries(t.rows()));
          assertEquals(layer.equals("mlp.down_proj") ? 2 : 1, vq.codebooks(t.rows()), t.name());
          assertEquals(t.rows(), vq.rowScales().length);
        }
        assertEquals(TensorKind.UNIFORM,
            reader.read("model.layers." + b + ".self_attn.q_proj.weight").kind());
      }
      // For the Python tests (test_vq_artifact.py): every tensor as our dequantizer sees it.
      DequantizedWeights.write(reader,
          CliRun.FIXTURES.resolve("stories260K-cbq-mixed-vq.dequantized.safetensors"), false);
    }
  }

  @Test
  void cbqOptionsAreRefusedWithRoundToNearest() {
    CliRun run = CliRun.of("quantize", "--epochs", "3");
    assertEquals(2, run.exitCode());
    assertEquals("calibra quantize: --epochs applies to --method cbq only\n", run.err());
  }
}
