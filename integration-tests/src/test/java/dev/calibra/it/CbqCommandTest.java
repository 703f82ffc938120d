package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
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
    assertTrue(quantize.out().contains("[cbq w4 g32 a8] window 4/4 (blocks 3–4)"), quantize.out());
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
    }
  }

  @Test
  void cbqOptionsAreRefusedWithRoundToNearest() {
    CliRun run = CliRun.of("quantize", "--epochs", "3");
    assertEquals(2, run.exitCode());
    assertEquals("calibra quantize: --epochs applies to --method cbq only\n", run.err());
  }
}
