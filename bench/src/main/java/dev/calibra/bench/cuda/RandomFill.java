package dev.calibra.bench.cuda;

/**
 * Uniform random values, fast: a 7B-shaped window needs about 400 million of them, which
 * Random.nextGaussian would take many seconds to draw. Their distribution does not affect the
 * timings; only zeros would (they can run faster than real data).
 */
public final class RandomFill {

  private RandomFill() {}

  /** count values uniform in [−scale, scale], from a 64-bit linear congruential generator. */
  public static float[] uniform(int count, long seed, double scale) {
    float[] values = new float[count];
    long state = seed * 0x9E3779B97F4A7C15L + 1;
    for (int i = 0; i < count; i++) {
      state = state * 6364136223846793005L + 1442695040888963407L;
      values[i] = (float) (((state >>> 40) * 0x1.0p-24 * 2 - 1) * scale);
    }
    return values;
  }
}
