package dev.calibra.model.backend;

/**
 * Random numbers that depend only on (seed, index), so that every backend draws the same ones in
 * any order and on any number of threads: SplitMix64's finaliser applied to seed + index·φ, where
 * φ = 0x9E3779B97F4A7C15, keeping the top 24 bits as a float in [0, 1).
 */
public final class CounterRandom {

  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private CounterRandom() {}

  public static float uniform(long seed, long index) {
    long z = seed + index * GOLDEN_GAMMA;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 40) * 0x1.0p-24f;
  }
}
