package dev.calibra.calibration.cfp;

/**
 * Truncates the outlier weights of a layer (CBQ's coarse-to-fine pre-processing for weights):
 * magnitudes above the {@link OutlierThreshold} of the layer's |w| are cut to it, sign kept.
 * A few extreme weights otherwise stretch their groups' grids so far that every other weight
 * there loses precision; this bounds the grid before learned clipping refines it.
 */
public final class WeightOutlierTruncation {

  private WeightOutlierTruncation() {}

  /** The result: the truncated copy and how many weights were cut, at what magnitude. */
  public record Truncated(float[] weights, int truncated, float threshold) {}

  public static Truncated apply(float[] weights) {
    float[] magnitudes = new float[weights.length];
    for (int i = 0; i < weights.length; i++) {
      magnitudes[i] = Math.abs(weights[i]);
    }
    float threshold = OutlierThreshold.of(magnitudes);
    float[] out = weights.clone();
    int truncated = 0;
    if (Float.isFinite(threshold)) {
      for (int i = 0; i < out.length; i++) {
        if (Math.abs(out[i]) > threshold) {
          out[i] = Math.copySign(threshold, out[i]);
          truncated++;
        }
      }
    }
    return new Truncated(out, truncated, threshold);
  }
}
