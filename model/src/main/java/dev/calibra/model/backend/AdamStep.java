package dev.calibra.model.backend;

/**
 * One Adam update with bias correction (Kingma and Ba), as the backend applies it to a parameter:
 *
 * <pre>
 *   m = β1·m + (1 − β1)·g        v = β2·v + (1 − β2)·g²
 *   p = p − lr · (m / c1) / (sqrt(v / c2) + eps)        c1 = 1 − β1^t,  c2 = 1 − β2^t
 * </pre>
 *
 * @param step t, counted from 1
 */
public record AdamStep(float learningRate, float beta1, float beta2, float epsilon, int step) {

  public AdamStep {
    if (step < 1) {
      throw new IllegalArgumentException("Adam steps count from 1, got " + step);
    }
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon > 0)) {
      throw new IllegalArgumentException("Adam needs 0 ≤ β1, β2 < 1 and eps > 0");
    }
  }

  /** 1 − β1^t. */
  public float firstMomentCorrection() {
    return (float) (1 - Math.pow(beta1, step));
  }

  /** 1 − β2^t. */
  public float secondMomentCorrection() {
    return (float) (1 - Math.pow(beta2, step));
  }
}
