package dev.calibra.calibration.cfp;

import java.util.Arrays;

/**
 * Coarse-to-fine outlier detection (CBQ's CFP) on a set of non-negative magnitudes.
 *
 * <p><b>Coarse</b>: Tukey's fence on the quartiles, everything above Q3 + 1.5·IQR is a
 * candidate. The fence is cheap and robust but generous: for Gaussian weights it flags about 1%
 * of them, most of which are ordinary tail values. <b>Fine</b>: the sorted candidates are split
 * in two where the split best separates them, maximising the between-set variance w0·w1·(μ1 −
 * μ0)² (Otsu's criterion; equivalently minimising the spread inside the two sets). Only the
 * upper set are outliers, and only when it stands clearly apart: its mean must be at least
 * {@link #MIN_SEPARATION} times the largest value kept, otherwise the candidates are one tail and
 * nothing is an outlier.
 */
public final class OutlierThreshold {

  private static final double FENCE = 1.5;
  static final double MIN_SEPARATION = 1.5;

  private OutlierThreshold() {}

  /**
   * The largest magnitude that is not an outlier: values above it are outliers. Returns
   * +∞ when there are none.
   */
  public static float of(float[] magnitudes) {
    if (magnitudes.length < 4) {
      return Float.POSITIVE_INFINITY;
    }
    float[] sorted = magnitudes.clone();
    Arrays.sort(sorted);
    float q1 = quantile(sorted, 0.25);
    float q3 = quantile(sorted, 0.75);
    float fence = (float) (q3 + FENCE * (q3 - q1));
    int firstCandidate = upperBound(sorted, fence);
    int candidates = sorted.length - firstCandidate;
    if (candidates < 2) {
      return candidates == 0 ? Float.POSITIVE_INFINITY
          : separatedOrNone(sorted, firstCandidate, firstCandidate);
    }
    // Otsu over the candidates: prefix sums give every split's between-set variance in O(n).
    double total = 0;
    for (int i = firstCandidate; i < sorted.length; i++) {
      total += sorted[i];
    }
    double best = -1;
    int bestSplit = firstCandidate;
    double below = 0;
    for (int split = firstCandidate + 1; split < sorted.length; split++) {
      below += sorted[split - 1];
      int lower = split - firstCandidate;
      int upper = sorted.length - split;
      double meanLower = below / lower;
      double meanUpper = (total - below) / upper;
      double between = (double) lower * upper * (meanUpper - meanLower) * (meanUpper - meanLower);
      if (between > best) {
        best = between;
        bestSplit = split;
      }
    }
    return separatedOrNone(sorted, bestSplit, firstCandidate);
  }

  /** The threshold below sorted[split], if the values from split on stand clearly apart. */
  private static float separatedOrNone(float[] sorted, int split, int firstCandidate) {
    float kept = split > 0 ? sorted[split - 1] : 0f;
    double upperMean = 0;
    for (int i = split; i < sorted.length; i++) {
      upperMean += sorted[i];
    }
    upperMean /= sorted.length - split;
    return upperMean >= MIN_SEPARATION * Math.max(kept, sorted[Math.max(0, firstCandidate - 1)])
        ? kept : Float.POSITIVE_INFINITY;
  }

  /** Linear interpolation between order statistics, as numpy's default quantile. */
  private static float quantile(float[] sorted, double q) {
    double position = q * (sorted.length - 1);
    int low = (int) Math.floor(position);
    int high = Math.min(sorted.length - 1, low + 1);
    return (float) (sorted[low] + (position - low) * (sorted[high] - sorted[low]));
  }

  /** Index of the first value greater than {@code key}. */
  private static int upperBound(float[] sorted, float key) {
    int low = 0;
    int high = sorted.length;
    while (low < high) {
      int mid = (low + high) >>> 1;
      if (sorted[mid] <= key) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }
}
