package dev.calibra.bench;

/**
 * Best-of-N timing: the fastest of several rounds is the one least disturbed by other work on the
 * machine, the JIT and the garbage collector, so it is the fairest estimate of what the code
 * itself can do.
 */
public final class BestTime {

  private BestTime() {}

  /**
   * Runs {@code body} for {@code warmupSeconds} (so the JIT has compiled it and its memory is
   * touched; 0 when an earlier call already did), then times
   * {@code rounds} rounds, each repeating the body until it has run at least
   * {@code minRoundSeconds}, and returns the best round's seconds per call.
   */
  public static double secondsPerCall(Runnable body, double warmupSeconds, int rounds,
      double minRoundSeconds) {
    long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
    while (System.nanoTime() < warmupEnd) {
      body.run();
    }

    double best = Double.POSITIVE_INFINITY;
    for (int round = 0; round < rounds; round++) {
      long start = System.nanoTime();
      long calls = 0;
      long elapsed;
      do {
        body.run();
        calls++;
        elapsed = System.nanoTime() - start;
      } while (elapsed < minRoundSeconds * 1e9);
      best = Math.min(best, elapsed / 1e9 / calls);
    }
    return best;
  }
}
