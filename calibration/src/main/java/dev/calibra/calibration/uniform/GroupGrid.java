package dev.calibra.calibration.uniform;

/**
 * The round-to-nearest grid of one (row, group): the range [min, max], widened to include 0,
 * split into {@code maxCode} steps, with an integer zero point. Float32 and half-to-even, as the
 * PyTorch reference implementations whose baselines shared/README.md lists compute it.
 */
public record GroupGrid(float scale, int zero, int maxCode) {

  /** The grid of a group whose smallest weight is {@code min} and largest {@code max}. */
  public static GroupGrid of(float min, float max, int maxCode) {
    min = Math.min(min, 0f);
    max = Math.max(max, 0f);
    if (min == 0f && max == 0f) {
      // An all-zero group: any grid holding 0 will do; this one matches the reference's.
      min = -1f;
      max = 1f;
    }
    float scale = (max - min) / maxCode;
    return new GroupGrid(scale, (int) Math.rint(-min / scale), maxCode);
  }

  /** The code nearest to {@code weight}, clamped to the grid. */
  public int code(float weight) {
    return Math.max(0, Math.min(maxCode, (int) Math.rint(weight / scale) + zero));
  }

  /** The weight a code stands for, computed as {@link QuantizedMatrix#dequantize()} does. */
  public float value(int code) {
    return scale * (code - zero);
  }
}
