package dev.calibra.model.cpu;

/**
 * Run by {@link GemmScalarFallbackTest} in a JVM without {@code jdk.incubator.vector}: prints the
 * kernel Gemm chose and the largest error of a blocked product whose exact result is known.
 */
public final class ScalarFallbackProbe {

  private ScalarFallbackProbe() {}

  public static void main(String[] args) {
    int size = 100;
    float[] ones = new float[size * size];
    java.util.Arrays.fill(ones, 1f);
    float[] c = new float[size * size];
    Gemm.multiply(false, true, size, size, size, ones, 0, size, ones, 0, size, 0f, c, 0, size);
    float worst = 0f;
    for (float value : c) {
      worst = Math.max(worst, Math.abs(value - size));
    }
    System.out.println(Gemm.defaultKernel() + " " + worst);
  }
}
