package dev.calibra.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Comparisons of GPU results with the CPU backend's. Every comparison prints one line
 * "PARITY op | case | measure value (tolerance t)", so that a run's log lists every measured
 * error next to its bound, passing or not; the device script gathers these lines.
 */
final class Parity {

  private Parity() {}

  /** ‖actual − expected‖ / ‖expected‖ over all elements (0 when both are 0). */
  static double relativeError(float[] actual, float[] expected) {
    double difference = 0;
    double norm = 0;
    for (int i = 0; i < expected.length; i++) {
      double d = (double) actual[i] - expected[i];
      difference += d * d;
      norm += (double) expected[i] * expected[i];
    }
    return norm == 0 ? Math.sqrt(difference) : Math.sqrt(difference / norm);
  }

  /** Fails unless every value is finite and the relative error is within {@code tolerance}. */
  static void check(String op, String variant, float[] actual, float[] expected, double tolerance) {
    assertEquals(expected.length, actual.length, op + " " + variant + ": length");
    requireFinite(op, variant, actual);
    double error = relativeError(actual, expected);
    report(op, variant, "relative error", error, tolerance);
    if (!(error <= tolerance)) {
      fail(String.format(Locale.ROOT, "%s %s: relative error %.3e exceeds %.1e", op, variant, error,
          tolerance));
    }
  }

  /**
   * Fails unless |actual[i] − expected[i]| ≤ bound[i] for every i; reports the largest ratio of
   * error to bound (≤ 1 passes).
   */
  static void checkBound(String op, String variant, float[] actual, float[] expected,
      double[] bound) {
    assertEquals(expected.length, actual.length, op + " " + variant + ": length");
    requireFinite(op, variant, actual);
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double ratio = Math.abs((double) actual[i] - expected[i]) / bound[i];
      if (!(ratio <= worst)) {
        worst = ratio;
        at = i;
      }
    }
    report(op, variant, "error/bound", worst, 1);
    if (!(worst <= 1)) {
      fail(String.format(Locale.ROOT, "%s %s: element %d is %s, expected %s ± %.3e", op, variant,
          at, actual[at], expected[at], bound[at]));
    }
  }

  /** Fails with every message at once: one run shows all failing cases. */
  static void failIfAny(List<String> failures) {
    if (!failures.isEmpty()) {
      fail(failures.size() + " failing cases:\n  " + String.join("\n  ", failures));
    }
  }

  static void report(String op, String variant, String measure, double value, double tolerance) {
    System.out.printf(Locale.ROOT, "PARITY %s | %s | %s %.3e (tolerance %.1e)%n", op, variant,
        measure, value, tolerance);
  }

  private static void requireFinite(String op, String variant, float[] values) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        fail(op + " " + variant + ": element " + i + " is " + values[i]);
      }
    }
  }

  static float[] gaussian(Random random, int count, double scale) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return values;
  }
}
