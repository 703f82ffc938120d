package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;

/**
 * Where each group's learned clipping starts: the factor, on a grid from 1 down to a bound in
 * steps of 0.01, whose round-to-nearest grid gives the group the smallest squared weight error
 * (the MSE observer of llm-compressor and AutoRound's starting point). A fixed starting factor
 * suits no bit width: at 8 bits clipping even 2% of the range costs more than rounding does, at 2
 * bits the best factor is often far below 0.9.
 */
final class InitialClipSearch {

  private static final float STEP = 0.01f;

  private InitialClipSearch() {}

  /**
   * The best factor per group (rows × groups) for the weight and group ranges of
   * {@code nearest}, whose clip and rounding tensors are ignored.
   */
  static float[] factors(Backend backend, LearnedWeightQuantization nearest, float minFactor) {
    Tensor weight = nearest.weight();
    int rows = weight.rows();
    int cols = weight.cols();
    int groups = nearest.groups();
    float[] w = backend.download(weight);
    float[] bestFactor = new float[rows * groups];
    double[] bestError = new double[rows * groups];
    java.util.Arrays.fill(bestError, Double.POSITIVE_INFINITY);
    Tensor logits = backend.zeros(rows, groups);
    Tensor restored = backend.zeros(rows, cols);
    int candidates = Math.round((1f - minFactor) / STEP);
    for (int c = 0; c <= candidates; c++) {
      float factor = 1f - c * STEP;
      backend.fill(logits, ClipFactors.logit(factor));
      backend.fakeQuantizeWeights(new LearnedWeightQuantization(weight, nearest.groupMin(),
          nearest.groupMax(), logits, logits, null, 1f, nearest.bits(), nearest.groupSize()),
          false, restored, null, null);
      float[] q = backend.download(restored);
      double[] error = new double[rows * groups];
      for (int i = 0; i < w.length; i++) {
        double d = (double) w[i] - q[i];
        error[(i / cols) * groups + (i % cols) / nearest.groupSize()] += d * d;
      }
      for (int g = 0; g < error.length; g++) {
        if (error[g] < bestError[g]) {
          bestError[g] = error[g];
          bestFactor[g] = factor;
        }
      }
    }
    logits.close();
    restored.close();
    return bestFactor;
  }
}
