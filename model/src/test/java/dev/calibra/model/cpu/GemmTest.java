package dev.calibra.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link Gemm} against a double-precision reference, on both kernels and all transpositions. */
class GemmTest {

  /** Sizes around the kernel tiles (6 × 16 SIMD, 4 × 4 scalar) and their multiples. */
  private static final int[] ODD_SIZES = {1, 3, 7, 17, 63, 65, 129};

  /**
   * {m, n, k} that cross the blocking of {@link BlockedGemm}: several column panels (n > 2048),
   * several k panels (k > 320), many row blocks, rows split over threads, column ranges split
   * over threads, and (m = 2) the direct path split over threads.
   */
  private static final int[][] BLOCKED_SHAPES = {
      {13, 2100, 330}, {400, 70, 520}, {200, 48, 1000}, {6, 16, 1300}, {40, 600, 100},
      {2, 2000, 700}};

  private static final float[] BETAS = {0f, 1f, 0.5f};

  static Stream<Arguments> kernelsAndTranspositions() {
    List<Arguments> cases = new ArrayList<>();
    for (Gemm.Kernel kernel : Gemm.Kernel.values()) {
      for (boolean transA : new boolean[] {false, true}) {
        for (boolean transB : new boolean[] {false, true}) {
          cases.add(Arguments.of(kernel, transA, transB));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} transA={1} transB={2}")
  @MethodSource("kernelsAndTranspositions")
  void oddSizesMatchTheReference(Gemm.Kernel kernel, boolean transA, boolean transB) {
    Random random = new Random(1);
    for (int m : ODD_SIZES) {
      for (int n : ODD_SIZES) {
        for (int k : ODD_SIZES) {
          for (float beta : BETAS) {
            GemmCase problem = new GemmCase(random, transA, transB, m, n, k, beta);
            problem.multiply(kernel);
            problem.assertMatchesReference();
          }
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} transA={1} transB={2}")
  @MethodSource("kernelsAndTranspositions")
  void blockedShapesMatchTheReference(Gemm.Kernel kernel, boolean transA, boolean transB) {
    Random random = new Random(2);
    for (int s = 0; s < BLOCKED_SHAPES.length; s++) {
      int[] shape = BLOCKED_SHAPES[s];
      GemmCase problem = new GemmCase(random, transA, transB, shape[0], shape[1], shape[2],
          BETAS[s % BETAS.length]);
      problem.multiply(kernel);
      problem.assertMatchesReference();
    }
  }

  @ParameterizedTest
  @EnumSource(Gemm.Kernel.class)
  void emptyDepthOnlyScalesC(Gemm.Kernel kernel) {
    Random random = new Random(3);
    for (float beta : BETAS) {
      GemmCase problem = new GemmCase(random, false, true, 9, 20, 0, beta);
      problem.multiply(kernel);
      problem.assertMatchesReference();
    }
  }

  @Test
  void theVectorApiIsUsedWhenTheJvmHasIt() {
    // Surefire starts the test JVM with --add-modules jdk.incubator.vector.
    assertEquals(Gemm.Kernel.SIMD, Gemm.defaultKernel());
  }

  @Test
  void concurrentAndNestedCallersKeepTheirScratchApart() throws Exception {
    int callers = 6;
    int m = 150;
    int n = 300;
    int k = 270;
    Random random = new Random(4);
    float[][] as = new float[callers][];
    float[][] expected = new float[callers][];
    float[] b = randomValues(random, k * n);
    for (int t = 0; t < callers; t++) {
      as[t] = randomValues(random, m * k);
      expected[t] = new float[m * n];
      Gemm.multiply(false, false, m, n, k, as[t], 0, k, b, 0, n, 0f, expected[t], 0, n);
    }

    float[][] fromThreads = new float[callers][m * n];
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < callers; t++) {
        int caller = t;
        done.add(pool.submit(() -> Gemm.multiply(false, false, m, n, k, as[caller], 0, k, b, 0,
            n, 0f, fromThreads[caller], 0, n)));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }

    // As in attention: GEMMs issued from inside the pool's own tasks.
    float[][] nested = new float[callers][m * n];
    Parallel.forRange(callers, 1, (first, end) -> {
      for (int t = first; t < end; t++) {
        Gemm.multiply(false, false, m, n, k, as[t], 0, k, b, 0, n, 0f, nested[t], 0, n);
      }
    });

    for (int t = 0; t < callers; t++) {
      assertArrayEquals(expected[t], fromThreads[t], "caller thread " + t);
      assertArrayEquals(expected[t], nested[t], "nested task " + t);
    }
  }

  private static float[] randomValues(Random random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = 2 * random.nextFloat() - 1;
    }
    return values;
  }
}
