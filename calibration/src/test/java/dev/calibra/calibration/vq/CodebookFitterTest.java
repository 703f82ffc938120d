package dev.calibra.calibration.vq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Weighted k-means on real layers of the shared models (CPU backend). */
class CodebookFitterTest {

  private final CpuBackend backend = new CpuBackend();

  static Path model(String name) {
    return Path.of(System.getProperty("calibra.shared", "../../shared"), "models", name);
  }

  private static float[] layer(String model, int block, Linear linear, int[] shape)
      throws Exception {
    try (ModelDirectory directory = ModelDirectory.open(model(model).toString())) {
      var weight = directory.weights().block(block, new CpuBackend()).weight(linear);
      shape[0] = weight.rows();
      shape[1] = weight.cols();
      return new CpuBackend().download(weight);
    }
  }

  /**
   * Lloyd's iterations never raise the objective: the assignment step picks each sub-vector's
   * nearest codeword and the update step the weighted mean of each cluster, both minimisers of
   * the same weighted squared error. Checked on dict-llama-15M's block 2 up_proj (768×288) with
   * uneven channel and row weights, where each of the 30 iterations must not exceed the one
   * before (up to float rounding of the centroids, 1e-6 relative) and the whole run must fall
   * at least 10% below the k-means++ seeding (which is a good start already).
   */
  @Test
  void objectiveNeverIncreasesAcrossIterations() throws Exception {
    int[] shape = new int[2];
    float[] w = layer("dict-llama-15M", 2, Linear.UP, shape);
    Random random = new Random(5);
    float[] channelWeights = new float[shape[1]];
    for (int c = 0; c < channelWeights.length; c++) {
      channelWeights[c] = (float) Math.exp(2 * random.nextGaussian()); // uneven, as XᵀX's diagonal
    }
    float[] rowWeights = new float[shape[0]];
    for (int r = 0; r < rowWeights.length; r++) {
      rowWeights[r] = 0.2f + random.nextFloat();
    }
    CodebookFitter.Fit fit = CodebookFitter.fit(backend, w, shape[0], shape[1], 4, 256,
        channelWeights, rowWeights, 11, new CodebookFitter.Limits(30, -1));
    double[] objectives = fit.objectives();
    assertEquals(31, objectives.length, "the seeding's objective and one per iteration");
    for (int i = 1; i < objectives.length; i++) {
      assertTrue(objectives[i] <= objectives[i - 1] * (1 + 1e-6), "iteration " + i + ": "
          + objectives[i] + " after " + objectives[i - 1]);
    }
    assertTrue(objectives[30] < 0.9 * objectives[0], "30 iterations only reached "
        + objectives[30] + " from " + objectives[0]);
  }

  /** The objective the fit reports is the weighted error of its codebook and assignment. */
  @Test
  void reportedObjectiveIsTheWeightedErrorOfTheResult() throws Exception {
    int[] shape = new int[2];
    float[] w = layer("stories260K", 1, Linear.GATE, shape);
    int rows = shape[0];
    int cols = shape[1];
    float[] h = new float[cols];
    for (int c = 0; c < cols; c++) {
      h[c] = 0.5f + (c % 7) / 7f;
    }
    CodebookFitter.Fit fit = CodebookFitter.fit(backend, w, rows, cols, 2, 16, h, null, 3,
        new CodebookFitter.Limits(20, 1e-4));
    double error = 0;
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < cols / 2; j++) {
        int e = fit.assignment()[r * (cols / 2) + j];
        for (int t = 0; t < 2; t++) {
          double d = w[r * cols + 2 * j + t] - fit.codebook()[2 * e + t];
          error += h[2 * j + t] * d * d;
        }
      }
    }
    double reported = fit.objectives()[fit.objectives().length - 1];
    assertEquals(error, reported, 1e-4 * error, "weighted error of the fitted codebook");
  }

  /** One seed, one codebook: the draws and every sum are deterministic. */
  @Test
  void aSeedFitsTheSameCodebook() throws Exception {
    int[] shape = new int[2];
    float[] w = layer("stories260K", 0, Linear.Q, shape);
    float[] h = new float[shape[1]];
    Arrays.fill(h, 1f);
    CodebookFitter.Limits limits = new CodebookFitter.Limits(10, -1);
    CodebookFitter.Fit a = CodebookFitter.fit(backend, w, shape[0], shape[1], 4, 32, h, null, 9,
        limits);
    CodebookFitter.Fit b = CodebookFitter.fit(backend, w, shape[0], shape[1], 4, 32, h, null, 9,
        limits);
    assertArrayEquals(a.codebook(), b.codebook());
    assertArrayEquals(a.objectives(), b.objectives());
  }
}
