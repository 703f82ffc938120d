package dev.calibra.bench.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures the FP32 FMA rate the JVM actually reaches: each thread runs twelve independent FMA
 * chains on registers (enough to hide the FMA latency on every current x86 core), with no memory
 * traffic. This is the ceiling any GEMM kernel on the Vector API can hope for, and a check on the
 * derived peak (a turbo clock above the nominal 'cpu MHz' shows up here).
 */
public final class FmaThroughput {

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int CHAINS = 12;
  private static final int STEPS_PER_ROUND = 20_000_000;
  private static final int WARMUP_STEPS = 200_000;

  private FmaThroughput() {}

  /** Best GFLOP/s over {@code rounds} rounds with {@code threads} threads running at once. */
  public static double gflops(int threads, int rounds) throws InterruptedException {
    // Until the JIT compiles them, Vector API calls run as slow Java fallbacks.
    for (int i = 0; i < 20; i++) {
      chains(WARMUP_STEPS);
    }
    double best = 0;
    for (int round = 0; round < rounds; round++) {
      best = Math.max(best, oneRound(threads));
    }
    return best;
  }

  private static double oneRound(int threads) throws InterruptedException {
    CyclicBarrier start = new CyclicBarrier(threads);
    long[] nanos = new long[threads];
    float[] sinks = new float[threads];
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread worker = new Thread(() -> {
        try {
          start.await();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        long begin = System.nanoTime();
        sinks[id] = chains(STEPS_PER_ROUND);
        nanos[id] = System.nanoTime() - begin;
      });
      worker.start();
      workers.add(worker);
    }
    long slowest = 0;
    for (int t = 0; t < threads; t++) {
      workers.get(t).join();
      slowest = Math.max(slowest, nanos[t]);
    }
    double flops = 2.0 * CHAINS * SPECIES.length() * STEPS_PER_ROUND * threads;
    return flops / slowest;
  }

  /**
   * Twelve chains x ← a·b + x, the accumulator form a GEMM kernel uses (on Zen 1 chaining through
   * the multiplicand instead runs markedly slower). The sum is returned, and stored by the caller,
   * so that the JIT cannot drop the chains.
   */
  private static float chains(int steps) {
    FloatVector a = FloatVector.broadcast(SPECIES, 0.999f);
    FloatVector b = FloatVector.broadcast(SPECIES, 1e-7f);
    FloatVector x0 = FloatVector.broadcast(SPECIES, 0.1f);
    FloatVector x1 = x0.add(1f);
    FloatVector x2 = x0.add(2f);
    FloatVector x3 = x0.add(3f);
    FloatVector x4 = x0.add(4f);
    FloatVector x5 = x0.add(5f);
    FloatVector x6 = x0.add(6f);
    FloatVector x7 = x0.add(7f);
    FloatVector x8 = x0.add(8f);
    FloatVector x9 = x0.add(9f);
    FloatVector x10 = x0.add(10f);
    FloatVector x11 = x0.add(11f);
    for (int i = 0; i < steps; i++) {
      x0 = a.fma(b, x0);
      x1 = a.fma(b, x1);
      x2 = a.fma(b, x2);
      x3 = a.fma(b, x3);
      x4 = a.fma(b, x4);
      x5 = a.fma(b, x5);
      x6 = a.fma(b, x6);
      x7 = a.fma(b, x7);
      x8 = a.fma(b, x8);
      x9 = a.fma(b, x9);
      x10 = a.fma(b, x10);
      x11 = a.fma(b, x11);
    }
    return x0.add(x1).add(x2).add(x3).add(x4).add(x5).add(x6).add(x7).add(x8).add(x9).add(x10)
        .add(x11).reduceLanes(VectorOperators.ADD);
  }
}
