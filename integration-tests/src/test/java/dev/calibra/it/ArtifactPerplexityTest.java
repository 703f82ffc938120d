package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.artifact.ArtifactWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/**
 * The artifact is the model the run evaluated: quantize --output on stories260K (RTN w4 g32, its
 * evaluation split), then evaluate --artifact, give exactly the same perplexity, which is also
 * the in-memory RTN perplexity computed without any artifact.
 */
class ArtifactPerplexityTest {

  @Test
  void evaluatingTheArtifactReproducesTheRunsPerplexityExactly() throws Exception {
    Path model = SharedData.model("stories260K");
    String tokens = model.resolve("sequences.json") + "#evaluation";
    Path artifact = CliRun.FIXTURES.resolve("stories260K-w4g32.arrow");
    Path report = CliRun.FIXTURES.resolve("stories260K-w4g32.report.json");
    Files.createDirectories(CliRun.FIXTURES);

    long start = System.nanoTime();
    CliRun quantize = CliRun.succeeding("quantize", "--model", model.toString(), "--eval-tokens",
        tokens, "--bits", "4", "--group", "32", "--output", artifact.toString(), "--overwrite",
        "--report", report.toString(), "--threads", "2");
    assertTrue(quantize.out().contains("artifact written to " + artifact), quantize.out());
    double runPerplexity = SharedData.json(report).get("results").get(0).get("perplexity").asDouble();

    CliRun evaluate = CliRun.succeeding("evaluate", "--artifact", artifact.toString(),
        "--eval-tokens", tokens, "--threads", "2");
    double artifactPerplexity = evaluate.printedPerplexity();
    System.out.printf("stories260K RTN w4 g32: run %.17g, from the artifact %.17g (%.1f s for both)%n",
        runPerplexity, artifactPerplexity, (System.nanoTime() - start) / 1e9);
    assertEquals(runPerplexity, artifactPerplexity, 0.0);
    assertTrue(evaluate.out().contains("(identical)"), evaluate.out());
    ReferencePerplexityTest.assertRelative(156.59, artifactPerplexity, 0.01, "RTN w4 g32 baseline");

    try (ModelDirectory directory = ModelDirectory.open(model.toString())) {
      List<int[]> windows = EvaluationWindows.ofSequences(TokenIdFiles.read(
          model.resolve("sequences.json").toString(), "evaluation"), directory.config().maxPositions());
      double inMemory = ModelRuns.rtnPerplexity(directory.weights(), new QuantizationScheme(4, 32),
          windows);
      assertEquals(inMemory, artifactPerplexity, 0.0, "in-memory RTN perplexity");
      try (ArtifactWeightSource source = ArtifactWeightSource.open(
          FileLocation.of(artifact.toString(), new Configuration()))) {
        assertEquals(inMemory, ModelRuns.perplexity(source, windows), 0.0, "artifact weight source");
      }
    }
    // For the Python tests: every tensor as our dequantizer sees it.
    try (ArtifactReader reader = ArtifactReader.open(FileLocation.of(artifact.toString(),
        new Configuration()))) {
      DequantizedWeights.write(reader, CliRun.FIXTURES.resolve("stories260K-w4g32.dequantized.safetensors"),
          false);
      JsonNode metrics = new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(
          reader.metadata().metrics());
      assertEquals(runPerplexity, metrics.get("perplexity").get("quantized").asDouble(), 0.0);
      assertEquals(5 * 7, metrics.get("layers").size());
    }
  }

  @Test
  void anExistingArtifactIsNotOverwrittenWithoutBeingAsked() throws Exception {
    Path model = SharedData.model("stories260K");
    Path artifact = Files.createTempDirectory("calibra-it").resolve("taken.arrow");
    Files.writeString(artifact, "not an artifact");
    CliRun run = CliRun.of("quantize", "--model", model.toString(), "--eval-tokens",
        model.resolve("sequences.json") + "#evaluation", "--bits", "4", "--group", "32",
        "--output", artifact.toString(), "--skip-float", "--report",
        artifact.resolveSibling("report.json").toString());
    assertEquals(1, run.exitCode());
    assertEquals("calibra quantize failed: artifact " + artifact + " already exists; choose another "
        + "--output, delete it, or add --overwrite\n", run.err());
    assertEquals("not an artifact", Files.readString(artifact));
  }
}
