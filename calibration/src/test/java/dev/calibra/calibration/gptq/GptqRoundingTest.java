package dev.calibra.calibration.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.uniform.UniformQuantizer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** GPTQ's rounding of a small random layer: two groups of 32 columns and a last one of 8. */
class GptqRoundingTest {

  private static final int ROWS = 24;
  private static final int COLS = 72;
  private static final int TOKENS = 400;
  private static final QuantizationScheme W3_G32 = new QuantizationScheme(3, 32);

  @Test
  void uncorrelatedInputsLeaveNothingToSpreadSoItRoundsToNearest() {
    Random random = new Random(5);
    float[] weights = gaussian(random, ROWS * COLS);
    float[] gram = new float[COLS * COLS];
    for (int c = 0; c < COLS; c++) {
      gram[c * COLS + c] = (float) Math.exp(random.nextGaussian());
    }
    QuantizedMatrix gptq = GptqRounding.quantize(weights, ROWS, COLS,
        GptqRounding.InverseHessian.of(gram, COLS), W3_G32);
    QuantizedMatrix nearest = new UniformQuantizer(W3_G32).quantize(weights, ROWS, COLS);
    assertArrayEquals(nearest.codes(), gptq.codes());
    assertArrayEquals(nearest.scales(), gptq.scales());
    assertArrayEquals(nearest.zeros(), gptq.zeros());
  }

  @Test
  void correlatedInputsGetALowerOutputErrorThanRoundToNearest() {
    Random random = new Random(7);
    float[] weights = gaussian(random, ROWS * COLS);
    float[] gram = correlatedInputsGram(random);
    QuantizedMatrix gptq = GptqRounding.quantize(weights, ROWS, COLS,
        GptqRounding.InverseHessian.of(gram, COLS), W3_G32);
    QuantizedMatrix nearest = new UniformQuantizer(W3_G32).quantize(weights, ROWS, COLS);
    for (byte code : gptq.codes()) {
      assertTrue(code >= 0 && code <= 7, "code " + code + " outside 3 bits");
    }
    double gptqError = outputError(gptq.dequantize(), weights, gram);
    double nearestError = outputError(nearest.dequantize(), weights, gram);
    System.out.printf("output error: round to nearest %.4g, GPTQ %.4g%n", nearestError, gptqError);
    assertTrue(gptqError < 0.7 * nearestError, "GPTQ " + gptqError + ", nearest " + nearestError);
  }

  @Test
  void aDeadInputChannelGetsZeroWeights() {
    Random random = new Random(9);
    float[] weights = gaussian(random, ROWS * COLS);
    float[] gram = correlatedInputsGram(random);
    int dead = 40;
    for (int c = 0; c < COLS; c++) {
      gram[dead * COLS + c] = 0f;
      gram[c * COLS + dead] = 0f;
    }
    float[] restored = GptqRounding.quantize(weights, ROWS, COLS,
        GptqRounding.InverseHessian.of(gram, COLS), W3_G32).dequantize();
    for (int r = 0; r < ROWS; r++) {
      assertEquals(0f, restored[r * COLS + dead], "row " + r);
    }
  }

  @Test
  void aNonFiniteWeightIsRefused() {
    float[] weights = gaussian(new Random(11), ROWS * COLS);
    weights[3 * COLS + 5] = Float.NaN;
    float[] gram = correlatedInputsGram(new Random(13));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GptqRounding.quantize(weights, ROWS, COLS, GptqRounding.InverseHessian.of(gram, COLS),
            W3_G32));
    assertEquals("weight (3, 5) is NaN: cannot quantize non-finite values", e.getMessage());
  }

  @Test
  void theUpperFactorIsTheCholeskyFactorOfTheDampedInverse() {
    float[] gram = correlatedInputsGram(new Random(3));
    double[][] u = GptqRounding.upperCholeskyOfInverse(gram, COLS);
    double mean = 0;
    for (int i = 0; i < COLS; i++) {
      mean += gram[i * COLS + i];
    }
    double damping = GptqRounding.DAMPING * mean / COLS;
    // UᵀU (H + λI) = I.
    for (int i = 0; i < COLS; i++) {
      double[] row = new double[COLS];
      for (int k = 0; k < COLS; k++) {
        double inverse = 0;
        for (int m = 0; m <= Math.min(i, k); m++) {
          inverse += u[m][i] * u[m][k];
        }
        for (int c = 0; c < COLS; c++) {
          row[c] += inverse * (gram[k * COLS + c] + (k == c ? damping : 0));
        }
        if (k < i) {
          assertEquals(0, u[i][k], "U is upper triangular");
        }
      }
      double[] identity = new double[COLS];
      identity[i] = 1;
      assertArrayEquals(identity, row, 1e-6, "row " + i);
    }
  }

  private static float[] gaussian(Random random, int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  /**
   * XᵀX of inputs whose channels follow each other (x_c = 0.9·x_{c−1} + noise) at scales that
   * differ from channel to channel: the case where spreading a column's rounding error over the
   * next columns pays.
   */
  private static float[] correlatedInputsGram(Random random) {
    double[] scale = new double[COLS];
    for (int c = 0; c < COLS; c++) {
      scale[c] = Math.exp(random.nextGaussian());
    }
    double[] gram = new double[COLS * COLS];
    double[] x = new double[COLS];
    for (int t = 0; t < TOKENS; t++) {
      double previous = random.nextGaussian();
      for (int c = 0; c < COLS; c++) {
        previous = 0.9 * previous + 0.45 * random.nextGaussian();
        x[c] = previous * scale[c];
      }
      for (int i = 0; i < COLS; i++) {
        for (int k = 0; k < COLS; k++) {
          gram[i * COLS + k] += x[i] * x[k];
        }
      }
    }
    float[] result = new float[gram.length];
    for (int i = 0; i < gram.length; i++) {
      result[i] = (float) gram[i];
    }
    return result;
  }

  /** ‖X(Ŵ − W)ᵀ‖² = Σ over rows of dᵀ(XᵀX)d, d the row's error. */
  private static double outputError(float[] quantized, float[] weights, float[] gram) {
    double sum = 0;
    for (int r = 0; r < ROWS; r++) {
      for (int i = 0; i < COLS; i++) {
        double di = quantized[r * COLS + i] - weights[r * COLS + i];
        for (int k = 0; k < COLS; k++) {
          sum += di * gram[i * COLS + k] * (quantized[r * COLS + k] - weights[r * COLS + k]);
        }
      }
    }
    return sum;
  }
}
