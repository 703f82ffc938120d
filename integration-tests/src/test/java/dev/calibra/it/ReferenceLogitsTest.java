package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.storage.hf.ModelDirectory;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The forward pass reproduces the logits PyTorch/transformers computed for each shared model:
 * first and last position entry by entry, and the sum of |logits| over all positions.
 */
class ReferenceLogitsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({"stories260K, 1e-4", "dict-llama-15M, 1e-3"})
  void logitsMatchTransformers(String modelName, double tolerance) throws Exception {
    JsonNode reference = SharedData.json(SharedData.model(modelName).resolve("reference.json"));
    int[] tokens = SharedData.ints(reference.get("token_ids"));
    Backend backend = new CpuBackend();
    float[][] logits = new float[tokens.length][];
    try (ModelDirectory model = ModelDirectory.open(SharedData.model(modelName).toString())) {
      new LayerwiseRunner(backend, 4096, (i, n, t) -> { })
          .run(model.weights(), List.of(tokens), (sequence, first, chunk) -> {
            float[] values = backend.download(chunk);
            int vocab = chunk.cols();
            for (int r = 0; r < chunk.rows(); r++) {
              logits[first + r] = java.util.Arrays.copyOfRange(values, r * vocab, (r + 1) * vocab);
            }
          });
    }
    double worst = Math.max(
        maxDifference(logits[0], reference.get("logits_first_position")),
        maxDifference(logits[tokens.length - 1], reference.get("logits_last_position")));
    System.out.printf("%s: largest logit difference %.3g (tolerance %.0e)%n", modelName, worst, tolerance);
    assertTrue(worst <= tolerance, modelName + ": largest logit difference " + worst);

    double sumAbs = 0;
    for (float[] row : logits) {
      for (float v : row) {
        sumAbs += Math.abs(v);
      }
    }
    double expected = reference.get("logits_sum_abs").asDouble();
    assertEquals(expected, sumAbs, expected * 1e-5, modelName + ": sum of |logits|");
  }

  private static double maxDifference(float[] actual, JsonNode expected) {
    assertEquals(expected.size(), actual.length);
    double worst = 0;
    for (int i = 0; i < actual.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected.get(i).asDouble()));
    }
    return worst;
  }
}
