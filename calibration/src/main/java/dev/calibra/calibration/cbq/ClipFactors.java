package dev.calibra.calibration.cbq;

/** Conversions between clip factors in (0, 1] and the logits they are learned as. */
final class ClipFactors {

  /**
   * Largest factor given a finite logit: σ(logit) never reaches 1, and a factor of 0.9999 is as
   * good as no clipping for any grid of at most 2^12 steps.
   */
  static final float MAX_FACTOR = 0.9999f;

  private ClipFactors() {}

  static float logit(float factor) {
    if (!(factor > 0f && factor <= 1f)) {
      throw new IllegalArgumentException("clip factors lie in (0, 1], got " + factor);
    }
    double p = Math.min(factor, MAX_FACTOR);
    return (float) Math.log(p / (1 - p));
  }
}
