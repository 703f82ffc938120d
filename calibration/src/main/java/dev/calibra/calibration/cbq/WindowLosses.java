package dev.calibra.calibration.cbq;

/**
 * The losses of one window's calibration: the hard-rounded reconstruction error before and after
 * (relative to the targets' energy), and the mean training loss of every epoch.
 */
public final class WindowLosses {

  private final double[] epochLossSums;
  private final double[] epochRegularizerSums;
  private final int[] epochSteps;
  private double start = Double.NaN;
  private double end = Double.NaN;
  private boolean keptStart;

  WindowLosses(int epochs) {
    epochLossSums = new double[epochs];
    epochRegularizerSums = new double[epochs];
    epochSteps = new int[epochs];
  }

  void add(int epoch, double loss, double weightedRegularizer) {
    epochLossSums[epoch] += loss;
    epochRegularizerSums[epoch] += weightedRegularizer;
    epochSteps[epoch]++;
  }

  void setStart(double value) {
    start = value;
  }

  void setEnd(double value) {
    end = value;
  }

  /** Training made the window worse: it went back to its start, whose error is the end's. */
  void keepStart() {
    end = start;
    keptStart = true;
  }

  /** Whether the window went back to the parameters it started with (see {@link #keepStart}). */
  public boolean keptStart() {
    return keptStart;
  }

  /** Relative reconstruction error of the window, hard-rounded, before calibration. */
  public double start() {
    return start;
  }

  /** Relative reconstruction error of the window, hard-rounded, after calibration. */
  public double end() {
    return end;
  }

  /** Mean training loss (reconstruction + KL, soft weights) of each epoch. */
  public double[] epochMeans() {
    double[] means = new double[epochLossSums.length];
    for (int e = 0; e < means.length; e++) {
      means[e] = epochLossSums[e] / Math.max(1, epochSteps[e]);
    }
    return means;
  }

  /** Mean weighted rounding regulariser of each epoch. */
  public double[] epochRegularizerMeans() {
    double[] means = new double[epochRegularizerSums.length];
    for (int e = 0; e < means.length; e++) {
      means[e] = epochRegularizerSums[e] / Math.max(1, epochSteps[e]);
    }
    return means;
  }
}
