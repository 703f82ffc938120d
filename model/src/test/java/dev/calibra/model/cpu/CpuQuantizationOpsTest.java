package dev.calibra.model.cpu;

import static dev.calibra.model.cpu.FiniteDifferences.check;
import static dev.calibra.model.cpu.FiniteDifferences.gaussian;
import static dev.calibra.model.cpu.FiniteDifferences.weightedSum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * The calibration ops of the CPU backend: gradients by finite differences, the straight-through
 * estimator against the derivative of its defining surrogate, and values against hand-computed
 * ones.
 */
class CpuQuantizationOpsTest {

  private final CpuBackend backend = new CpuBackend();
  private final Random random = new Random(7);

  private Tensor tensor(int rows, int cols, double scale) {
    return backend.upload(gaussian(random, rows * cols, scale), rows, cols);
  }

  private static float[] data(Tensor t) {
    return CpuBackend.data(t);
  }

  /** A 6×20 weight in groups of 8 (the last one 4 wide), 3 bits, with its group ranges. */
  private LearnedWeightQuantization quantization(boolean withRounding, boolean withClipping) {
    return quantization(withRounding, withClipping, 1f);
  }

  private LearnedWeightQuantization quantization(boolean withRounding, boolean withClipping,
      float temperature) {
    int rows = 6;
    int cols = 20;
    int groupSize = 8;
    Tensor w = tensor(rows, cols, 1.0);
    int groups = LearnedWeightQuantization.groups(cols, groupSize);
    float[] min = new float[rows * groups];
    float[] max = new float[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = r * groups + c / groupSize;
        min[g] = Math.min(min[g], data(w)[r * cols + c]);
        max[g] = Math.max(max[g], data(w)[r * cols + c]);
      }
    }
    Tensor clipLower = withClipping ? tensor(rows, groups, 1.0) : null;
    Tensor clipUpper = withClipping ? tensor(rows, groups, 1.0) : null;
    Tensor rounding = withRounding ? tensor(rows, cols, 1.5) : null;
    return new LearnedWeightQuantization(w, backend.upload(min, rows, groups),
        backend.upload(max, rows, groups), clipLower, clipUpper, rounding, temperature, 3,
        groupSize);
  }

  private float[] fakeQuantize(LearnedWeightQuantization q, boolean hard) {
    Tensor out = backend.zeros(q.weight().rows(), q.weight().cols());
    backend.fakeQuantizeWeights(q, hard, out, null, null);
    return data(out);
  }

  @Test
  void roundingGradientMatchesFiniteDifferences() {
    LearnedWeightQuantization q = quantization(true, true, 0.7f);
    float[] r = gaussian(random, (int) q.weight().size(), 1.0);
    Tensor dRounding = backend.zeros(q.weight().rows(), q.weight().cols());
    backend.fakeQuantizeWeightsBackward(q, backend.upload(r, q.weight().rows(), q.weight().cols()),
        dRounding, null, null);
    DoubleSupplier loss = () -> weightedSum(fakeQuantize(q, false), r);
    check("LoRA-Rounding dV", data(q.rounding()), data(dRounding), loss, 80, 2e-3, random);
  }

  /**
   * The straight-through estimator is the exact derivative of a surrogate in which floor(w/s)
   * and round(−l/s) are replaced by their argument plus the constant offset they have at the
   * point of evaluation (and the in/out-of-grid pattern is held fixed). Finite differences of
   * that surrogate, written out here in double, must match the op's clip gradients.
   */
  @Test
  void clipGradientsAreTheStraightThroughEstimator() {
    for (boolean withRounding : new boolean[] {true, false}) {
      LearnedWeightQuantization q = quantization(withRounding, true);
      float[] r = gaussian(random, (int) q.weight().size(), 1.0);
      Tensor dLower = backend.zeros(q.weight().rows(), q.groups());
      Tensor dUpper = backend.zeros(q.weight().rows(), q.groups());
      backend.fakeQuantizeWeightsBackward(q, backend.upload(r, q.weight().rows(),
          q.weight().cols()), null, dLower, dUpper);
      SteSurrogate surrogate = new SteSurrogate(q);
      DoubleSupplier loss = () -> weightedSum(surrogate.evaluate(), r);
      String what = withRounding ? "learned rounding" : "nearest rounding";
      check("clip lower (" + what + ")", data(q.clipLower()), data(dLower), loss, 18, 2e-3, random);
      check("clip upper (" + what + ")", data(q.clipUpper()), data(dUpper), loss, 18, 2e-3, random);
    }
  }

  /** ŵ with floor/round linearised around the point the surrogate was created at. */
  private static final class SteSurrogate {
    private final LearnedWeightQuantization q;
    private final double[] codeOffset;
    private final double[] zeroOffset;
    private final int[] region;

    SteSurrogate(LearnedWeightQuantization q) {
      this.q = q;
      int n = (int) q.weight().size();
      codeOffset = new double[n];
      zeroOffset = new double[q.weight().rows() * q.groups()];
      region = new int[n];
      walk((i, g, w, s, lower) -> {
        double scaled = w / s;
        double exactZero = -lower / s;
        double zero = Math.rint(exactZero);
        zeroOffset[g] = zero - exactZero;
        double code;
        if (q.rounding() == null) {
          code = Math.rint(scaled);
        } else {
          float anchor = CpuQuantizationOps.anchor((float) scaled);
          code = Math.floor(scaled) + CpuQuantizationOps.rectifiedSigmoid(
              (anchor + data(q.rounding())[i]) / q.roundingTemperature());
        }
        codeOffset[i] = code - scaled;
        double full = code + zero;
        region[i] = full < 0 ? -1 : full > q.maxCode() ? 1 : 0;
        return 0;
      });
    }

    float[] evaluate() {
      float[] out = new float[(int) q.weight().size()];
      walk((i, g, w, s, lower) -> {
        double zero = -lower / s + zeroOffset[g];
        double code = region[i] < 0 ? 0 : region[i] > 0 ? q.maxCode() : w / s + codeOffset[i] + zero;
        out[i] = (float) (s * (code - zero));
        return 0;
      });
      return out;
    }

    interface Element {
      double visit(int index, int group, double w, double step, double lower);
    }

    private void walk(Element element) {
      int cols = q.weight().cols();
      for (int r = 0; r < q.weight().rows(); r++) {
        for (int c = 0; c < cols; c++) {
          int g = r * q.groups() + c / q.groupSize();
          double lower = sigmoid(data(q.clipLower())[g]) * data(q.groupMin())[g];
          double upper = sigmoid(data(q.clipUpper())[g]) * data(q.groupMax())[g];
          double step = (upper - lower) / q.maxCode();
          element.visit(r * cols + c, g, data(q.weight())[r * cols + c], step, lower);
        }
      }
    }

    private static double sigmoid(double x) {
      return 1 / (1 + Math.exp(-x));
    }
  }

  @Test
  void withoutClippingOrRoundingItIsRoundToNearest() {
    LearnedWeightQuantization q = quantization(false, false);
    Tensor scales = backend.zeros(q.weight().rows(), q.groups());
    Tensor zeros = backend.zeros(q.weight().rows(), q.groups());
    Tensor out = backend.zeros(q.weight().rows(), q.weight().cols());
    backend.fakeQuantizeWeights(q, false, out, scales, zeros);
    float[] w = data(q.weight());
    for (int i = 0; i < w.length; i++) {
      int g = (i / 20) * q.groups() + (i % 20) / 8;
      float s = data(scales)[g];
      assertEquals((data(q.groupMax())[g] - data(q.groupMin())[g]) / 7f, s, 0f);
      float code = data(out)[i] / s + data(zeros)[g];
      assertEquals(Math.rint(code), code, 1e-4, "on the grid");
      assertTrue(Math.abs(data(out)[i] - w[i]) <= s / 2 + 1e-6, "within half a step");
    }
  }

  @Test
  void hardRoundingDecidesBySignOfAnchorPlusOffset() {
    LearnedWeightQuantization q = quantization(true, false, 0.5f);
    float[] v = data(q.rounding());
    float[] hard = fakeQuantize(q, true);
    Tensor scales = backend.zeros(q.weight().rows(), q.groups());
    Tensor zeros = backend.zeros(q.weight().rows(), q.groups());
    backend.fakeQuantizeWeights(q, true, backend.zeros(6, 20), scales, zeros);
    float[] w = data(q.weight());
    for (int i = 0; i < w.length; i++) {
      int g = (i / 20) * q.groups() + (i % 20) / 8;
      float s = data(scales)[g];
      float z = data(zeros)[g];
      float x = w[i] / s;
      double code = Math.floor(x) + (CpuQuantizationOps.anchor(x) + v[i] >= 0 ? 1 : 0) + z;
      double expected = s * (Math.max(0, Math.min(7, code)) - z);
      assertEquals(expected, hard[i], 1e-5, "weight " + i);
    }
    // Zero offsets round to nearest (hard), and give back the float weights (soft, T = 1).
    java.util.Arrays.fill(v, 0f);
    LearnedWeightQuantization plain = new LearnedWeightQuantization(q.weight(), q.groupMin(),
        q.groupMax(), null, null, q.rounding(), 1f, q.bits(), q.groupSize());
    LearnedWeightQuantization nearest = new LearnedWeightQuantization(q.weight(), q.groupMin(),
        q.groupMax(), null, null, null, 1f, q.bits(), q.groupSize());
    assertArrayEquals(fakeQuantize(nearest, false), fakeQuantize(plain, true), 1e-6f);
    float[] soft = fakeQuantize(plain, false);
    for (int i = 0; i < w.length; i++) {
      int g = (i / 20) * q.groups() + (i % 20) / 8;
      float s = data(scales)[g];
      float z = data(zeros)[g];
      float inside = Math.max(-z * s, Math.min((7 - z) * s, w[i])); // the grid's ends clamp
      assertEquals(inside, soft[i], 1e-5f, "soft weight " + i);
    }
    // Saturated offsets make the soft weights equal the hard ones.
    for (int i = 0; i < v.length; i++) {
      v[i] = i % 3 == 0 ? 40f : -40f;
    }
    assertArrayEquals(fakeQuantize(q, true), fakeQuantize(q, false), 1e-6f);
  }

  @Test
  void regularizerGradientMatchesFiniteDifferencesAndVanishesWhenDecided() {
    LearnedWeightQuantization q = quantization(true, true, 0.8f);
    Tensor dRounding = backend.zeros(6, 20);
    backend.roundingRegularizer(q, 3f, 1f, dRounding);
    DoubleSupplier loss = () -> backend.roundingRegularizer(q, 3f, 0f, backend.zeros(6, 20));
    check("regulariser dR", data(q.rounding()), data(dRounding), loss, 40, 2e-3, random);

    float[] v = data(q.rounding());
    for (int i = 0; i < v.length; i++) {
      v[i] = i % 2 == 0 ? 30f : -30f;
    }
    assertEquals(0.0, backend.roundingRegularizer(q, 2f, 1f, backend.zeros(6, 20)), 0.0);
  }

  @Test
  void lossGradientsMatchFiniteDifferences() {
    Tensor target = tensor(4, 11, 1.0);
    Tensor pred = tensor(4, 11, 1.0);
    Tensor dPred = backend.zeros(4, 11);
    double squares = backend.squaredError(pred, target, 0.5f, dPred);
    double expected = 0;
    for (int i = 0; i < 44; i++) {
      double d = data(pred)[i] - data(target)[i];
      expected += d * d;
    }
    assertEquals(expected, squares, 1e-9 * expected);
    check("squared error", data(pred), data(dPred),
        () -> 0.5 * backend.squaredError(pred, target, 0f, backend.zeros(4, 11)), 30, 2e-3, random);

    Tensor dKl = backend.zeros(4, 11);
    double kl = backend.softmaxKlDivergence(target, pred, 2f, 3f, dKl);
    assertTrue(kl > 0, "distinct distributions have positive divergence");
    assertEquals(0.0, backend.softmaxKlDivergence(pred, pred, 2f, 1f, backend.zeros(4, 11)), 1e-9);
    check("KL divergence", data(pred), data(dKl),
        () -> 3 * backend.softmaxKlDivergence(target, pred, 2f, 0f, backend.zeros(4, 11)), 30,
        2e-3, random);
  }

  @Test
  void adamMatchesTwoHandComputedSteps() {
    Tensor p = backend.upload(new float[] {1f, -2f}, 1, 2);
    Tensor m = backend.zeros(1, 2);
    Tensor v = backend.zeros(1, 2);
    Tensor g = backend.upload(new float[] {0.5f, -4f}, 1, 2);
    backend.adamUpdate(p, g, m, v, new AdamStep(0.1f, 0.9f, 0.999f, 1e-8f, 1));
    // Step 1: m̂ = g and v̂ = g², so each parameter moves by lr against the sign of g.
    assertArrayEquals(new float[] {0.9f, -1.9f}, data(p), 1e-6f);
    backend.upload(new float[] {0.5f, -4f}, 1, 2);
    g = backend.upload(new float[] {-0.5f, -4f}, 1, 2);
    backend.adamUpdate(p, g, m, v, new AdamStep(0.1f, 0.9f, 0.999f, 1e-8f, 2));
    double m0 = (0.9 * 0.05 + 0.1 * -0.5) / (1 - 0.81);
    double v0 = (0.999 * 0.001 * 0.25 + 0.001 * 0.25) / (1 - 0.998001);
    assertEquals(0.9 - 0.1 * m0 / (Math.sqrt(v0) + 1e-8), data(p)[0], 1e-6);
    assertEquals(-1.8, data(p)[1], 1e-6);
  }

  @Test
  void activationQuantizationIsPerTokenAndDropsTheAskedShare() {
    int rows = 40;
    int cols = 64;
    Tensor x = tensor(rows, cols, 1.0);
    Tensor out = backend.zeros(rows, cols);
    backend.fakeQuantizeActivations(x, 4, 0f, 1L, out);
    for (int r = 0; r < rows; r++) {
      float min = 0;
      float max = 0;
      for (int c = 0; c < cols; c++) {
        min = Math.min(min, data(x)[r * cols + c]);
        max = Math.max(max, data(x)[r * cols + c]);
      }
      float step = (max - min) / 15f;
      for (int c = 0; c < cols; c++) {
        int i = r * cols + c;
        assertTrue(Math.abs(data(out)[i] - data(x)[i]) <= step / 2 + 1e-6, "row " + r);
      }
    }
    backend.fakeQuantizeActivations(x, 4, 0.5f, 9L, out);
    int kept = 0;
    for (int i = 0; i < rows * cols; i++) {
      kept += data(out)[i] == data(x)[i] ? 1 : 0;
    }
    // About half keep their float value (a few more land on the grid by chance).
    assertTrue(kept > 0.45 * rows * cols && kept < 0.6 * rows * cols, kept + " kept");
    backend.fakeQuantizeActivations(x, 4, 1f, 9L, out);
    assertArrayEquals(data(x), data(out), 0f);
  }

  @Test
  void columnAbsMaxKeepsTheRunningMaximum() {
    Tensor running = backend.upload(new float[] {0.5f, 10f, 0f}, 1, 3);
    backend.columnAbsMax(backend.upload(new float[] {1f, -2f, 0f, -3f, 4f, 0f}, 2, 3), running);
    assertArrayEquals(new float[] {3f, 10f, 0f}, data(running), 0f);
  }
}
