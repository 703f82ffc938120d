package dev.calibra.calibration;

/** How far quantized weights are from the originals. */
public final class WeightError {

  private WeightError() {}

  /** ‖original − restored‖² / ‖original‖², in double. */
  public static double relative(float[] original, float[] restored) {
    double error = 0;
    double norm = 0;
    for (int i = 0; i < original.length; i++) {
      double d = (double) original[i] - restored[i];
      error += d * d;
      norm += (double) original[i] * original[i];
    }
    return norm == 0 ? 0 : error / norm;
  }
}
