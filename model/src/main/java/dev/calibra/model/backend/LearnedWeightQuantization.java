package dev.calibra.model.backend;

/**
 * One weight matrix under uniform asymmetric group-wise quantization with a learned grid and
 * learned rounding: the tensors the fake-quantization ops read, all on one backend.
 *
 * <p>Groups are {@code groupSize} consecutive input columns of one output row; a row whose length
 * is not a multiple of it ends with a shorter group. For element (r, c) of group g = c / groupSize:
 *
 * <pre>
 *   u = σ(clipUpper[r,g]) · groupMax[r,g]       l = σ(clipLower[r,g]) · groupMin[r,g]
 *   s = max((u − l) / qmax, MIN_STEP)            z = round(−l / s)             qmax = 2^bits − 1
 *   with a rounding tensor R (learned rounding):
 *     x = w / s,   a = logit((frac(x) + 0.1) / 1.2),   v = (a + R[r,c]) / T
 *     q = floor(x) + h(v) + z,   h(v) = clamp(1.2·σ(v) − 0.1, 0, 1)   (hard mode: 1 when a + R ≥ 0)
 *   without one:
 *     q = round(w / s) + z
 *   ŵ = s · (clamp(q, 0, qmax) − z)
 * </pre>
 *
 * The anchor a makes h(a) = frac(x) exactly, so R = 0 at T = 1 gives back the float weight
 * inside the clip range, and R = 0 in hard mode gives round-to-nearest, whatever the current
 * step: R learns only departures from nearest rounding, and stays meaningful while the step
 * itself is learned. The temperature T sharpens h towards a step as it falls below 1.
 *
 * <p>A null clip tensor means a factor of exactly 1 (no clipping): with both null and no
 * rounding tensor, ŵ is plain round-to-nearest. groupMin ≤ 0 ≤ groupMax, as the grid must hold 0.
 * round is half-to-even. Gradients use the straight-through estimator for floor and round (so
 * frac, and with it the anchor, has no gradient).
 *
 * @param weight the float weights, rows × cols
 * @param groupMin per (row, group) minimum, rows × groups
 * @param groupMax per (row, group) maximum, rows × groups
 * @param clipLower logits of the lower clip factor, rows × groups, or null
 * @param clipUpper logits of the upper clip factor, rows × groups, or null
 * @param rounding the learned rounding offsets R, rows × cols, or null for round-to-nearest
 * @param roundingTemperature T, which the rounding logits are divided by
 */
public record LearnedWeightQuantization(
    Tensor weight,
    Tensor groupMin,
    Tensor groupMax,
    Tensor clipLower,
    Tensor clipUpper,
    Tensor rounding,
    float roundingTemperature,
    int bits,
    int groupSize) {

  /** Smallest step: keeps a group whose clipped range collapsed from dividing by zero. */
  public static final float MIN_STEP = 1e-9f;

  public LearnedWeightQuantization {
    if (bits < 1 || bits > 16) {
      throw new IllegalArgumentException("bits must be in 1..16, got " + bits);
    }
    if (!(roundingTemperature > 0)) {
      throw new IllegalArgumentException("rounding temperature must be positive, got "
          + roundingTemperature);
    }
    if (groupSize <= 0 || groupSize > weight.cols()) {
      throw new IllegalArgumentException("group size " + groupSize + " for rows of " + weight.cols());
    }
    int groups = groups(weight.cols(), groupSize);
    ShapeChecks.requireShape("groupMin", groupMin, weight.rows(), groups);
    ShapeChecks.requireShape("groupMax", groupMax, weight.rows(), groups);
    if (clipLower != null) {
      ShapeChecks.requireShape("clipLower", clipLower, weight.rows(), groups);
    }
    if (clipUpper != null) {
      ShapeChecks.requireShape("clipUpper", clipUpper, weight.rows(), groups);
    }
    if (rounding != null) {
      ShapeChecks.requireShape("rounding", rounding, weight.rows(), weight.cols());
    }
  }

  /** Groups in a row of {@code cols} weights. */
  public static int groups(int cols, int groupSize) {
    return (cols + groupSize - 1) / groupSize;
  }

  public int groups() {
    return groups(weight.cols(), groupSize);
  }

  public int maxCode() {
    return (1 << bits) - 1;
  }

  /** The shapes of a fake-quantization's outputs; {@code scales} and {@code zeros} may be null. */
  public void requireOutputs(Tensor out, Tensor scales, Tensor zeros) {
    ShapeChecks.requireSameShape("fake quantization", weight, out);
    if (scales != null) {
      ShapeChecks.requireShape("scales", scales, weight.rows(), groups());
    }
    if (zeros != null) {
      ShapeChecks.requireShape("zeros", zeros, weight.rows(), groups());
    }
  }

  /** The shapes of its backward pass's tensors; the three gradients may be null. */
  public void requireGradients(Tensor dOut, Tensor dRounding, Tensor dClipLower,
      Tensor dClipUpper) {
    ShapeChecks.requireSameShape("fake quantization gradient", weight, dOut);
    if (dRounding != null) {
      ShapeChecks.requireSameShape("rounding gradient", weight, dRounding);
    }
    if (dClipLower != null) {
      ShapeChecks.requireShape("lower clip gradient", dClipLower, weight.rows(), groups());
    }
    if (dClipUpper != null) {
      ShapeChecks.requireShape("upper clip gradient", dClipUpper, weight.rows(), groups());
    }
  }
}
