package dev.calibra.model.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences of a scalar loss with respect to entries of a float array, compared
 * with an analytic gradient. Entries are sampled at random so that large tensors stay cheap.
 */
final class FiniteDifferences {

  private static final float STEP = 1e-2f;

  private FiniteDifferences() {}

  /**
   * Perturbs {@code samples} random entries of {@code values} (the live array a computation
   * reads), evaluates {@code loss} at ±STEP, and requires the analytic gradient to agree within
   * {@code tolerance} relative to the gradient's norm over the sampled entries.
   */
  static void check(String name, float[] values, float[] analytic, DoubleSupplier loss, int samples,
      double tolerance, Random random) {
    double errorSquares = 0;
    double normSquares = 0;
    StringBuilder worst = new StringBuilder();
    double worstError = -1;
    for (int s = 0; s < samples; s++) {
      int i = random.nextInt(values.length);
      float saved = values[i];
      values[i] = saved + STEP;
      double plus = loss.getAsDouble();
      values[i] = saved - STEP;
      double minus = loss.getAsDouble();
      values[i] = saved;
      double numeric = (plus - minus) / (2 * STEP);
      double error = Math.abs(numeric - analytic[i]);
      errorSquares += error * error;
      normSquares += numeric * numeric;
      if (error > worstError) {
        worstError = error;
        worst.setLength(0);
        worst.append("entry ").append(i).append(": numeric ").append(numeric)
            .append(" analytic ").append(analytic[i]);
      }
    }
    double relative = Math.sqrt(errorSquares / Math.max(normSquares, 1e-12));
    assertTrue(normSquares > 0, name + ": the sampled gradient is zero, the check proves nothing");
    assertTrue(relative < tolerance, name + ": relative error " + relative + " ≥ " + tolerance
        + " (worst " + worst + ")");
  }

  /** Σ weights ⊙ values in double: a loss whose gradient with respect to values is weights. */
  static double weightedSum(float[] values, float[] weights) {
    double sum = 0;
    for (int i = 0; i < values.length; i++) {
      sum += (double) values[i] * weights[i];
    }
    return sum;
  }

  static float[] gaussian(Random random, int n, double scale) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return values;
  }
}
