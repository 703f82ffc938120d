package dev.calibra.model.cpu;

import static dev.calibra.model.cpu.FiniteDifferences.check;
import static dev.calibra.model.cpu.FiniteDifferences.gaussian;
import static dev.calibra.model.cpu.FiniteDifferences.weightedSum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.IndexTensors;
import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.backend.WeightedSubVectors;
import java.util.Arrays;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * The vector-quantization ops of the CPU backend against direct double-precision computations of
 * their definitions, and the soft assignment's gradients by finite differences.
 */
class CpuVectorQuantizationOpsTest {

  private final CpuBackend backend = new CpuBackend();
  private final Random random = new Random(11);

  private static final int ROWS = 12;
  private static final int COLS = 24;
  private static final int DIM = 4;
  private static final int ENTRIES = 10;

  private float[] positive(int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = 0.1f + 2f * random.nextFloat();
    }
    return values;
  }

  private WeightedSubVectors problem(float[] x, float[] h, float[] f) {
    return new WeightedSubVectors(backend.upload(x, ROWS, COLS), DIM, backend.upload(h, 1, COLS),
        f == null ? null : backend.upload(f, ROWS, 1));
  }

  /** D(i, e) in double, straight from the definition. */
  private static double distance(float[] x, float[] h, float[] f, float[] codebook, int i, int e) {
    int perRow = COLS / DIM;
    int r = i / perRow;
    int j = i % perRow;
    double sum = 0;
    for (int t = 0; t < DIM; t++) {
      double diff = x[r * COLS + j * DIM + t] - codebook[e * DIM + t];
      sum += h[j * DIM + t] * diff * diff;
    }
    return (f == null ? 1 : f[r]) * sum;
  }

  @Test
  void nearestCodewordsAreTheClosestUnderTheWeightedDistance() {
    float[] x = gaussian(random, ROWS * COLS, 1.0);
    float[] h = positive(COLS);
    float[] f = positive(ROWS);
    float[] codebook = gaussian(random, ENTRIES * DIM, 1.0);
    int n = 3;
    WeightedSubVectors v = problem(x, h, f);
    Tensor indices = backend.zeros(v.count(), n);
    int exponent = 40;
    double objective = backend.nearestCodewords(v, backend.upload(codebook, ENTRIES, DIM), indices,
        exponent);
    int[] found = IndexTensors.download(backend, indices);
    double expectedObjective = 0;
    for (int i = 0; i < v.count(); i++) {
      Integer[] order = new Integer[ENTRIES];
      for (int e = 0; e < ENTRIES; e++) {
        order[e] = e;
      }
      int sub = i;
      Arrays.sort(order, (a, b) -> Double.compare(distance(x, h, f, codebook, sub, a),
          distance(x, h, f, codebook, sub, b)));
      for (int c = 0; c < n; c++) {
        assertEquals(distance(x, h, f, codebook, i, order[c]),
            distance(x, h, f, codebook, i, found[i * n + c]), 1e-5,
            "sub-vector " + i + ", candidate " + c);
      }
      expectedObjective += distance(x, h, f, codebook, i, order[0]);
    }
    assertEquals(expectedObjective, objective, 1e-5 * expectedObjective);
  }

  @Test
  void tiesGoToTheLowerIndex() {
    float[] x = new float[ROWS * COLS];
    float[] h = new float[COLS];
    Arrays.fill(h, 1f);
    float[] codebook = new float[ENTRIES * DIM]; // all codewords equal: every distance ties
    WeightedSubVectors v = problem(x, h, null);
    Tensor indices = backend.zeros(v.count(), 2);
    backend.nearestCodewords(v, backend.upload(codebook, ENTRIES, DIM), indices, 20);
    int[] found = IndexTensors.download(backend, indices);
    for (int i = 0; i < v.count(); i++) {
      assertEquals(0, found[2 * i]);
      assertEquals(1, found[2 * i + 1]);
    }
  }

  @Test
  void centroidsBecomeWeightedMeansAndEmptyOnesStay() {
    float[] x = gaussian(random, ROWS * COLS, 1.0);
    float[] h = positive(COLS);
    float[] f = positive(ROWS);
    WeightedSubVectors v = problem(x, h, f);
    int[] assignment = new int[v.count()];
    for (int i = 0; i < assignment.length; i++) {
      assignment[i] = random.nextInt(ENTRIES - 1); // the last codeword stays empty
    }
    float[] start = gaussian(random, ENTRIES * DIM, 1.0);
    Tensor codebook = backend.upload(start, ENTRIES, DIM);
    backend.updateCentroids(v, IndexTensors.upload(backend, assignment, v.count(), 1), codebook,
        WeightedSubVectors.fixedPointExponent(ROWS * COLS * 20.0));
    float[] result = backend.download(codebook);
    int perRow = COLS / DIM;
    for (int e = 0; e < ENTRIES - 1; e++) {
      for (int t = 0; t < DIM; t++) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < assignment.length; i++) {
          if (assignment[i] == e) {
            double w = (double) f[i / perRow] * h[(i % perRow) * DIM + t];
            num += w * x[(i / perRow) * COLS + (i % perRow) * DIM + t];
            den += w;
          }
        }
        assertEquals(num / den, result[e * DIM + t], 1e-6, "codeword " + e + ", dim " + t);
      }
    }
    for (int t = 0; t < DIM; t++) {
      assertEquals(start[(ENTRIES - 1) * DIM + t], result[(ENTRIES - 1) * DIM + t]);
    }
  }

  @Test
  void kMeansPlusPlusDrawsInProportionToTheDistance() {
    float[] x = gaussian(random, ROWS * COLS, 1.0);
    float[] h = positive(COLS);
    float[] f = positive(ROWS);
    WeightedSubVectors v = problem(x, h, f);
    int exponent = WeightedSubVectors.fixedPointExponent(1e4);
    Tensor minDistance = backend.zeros(v.count(), 1);
    backend.fill(minDistance, Float.POSITIVE_INFINITY);
    int chosen = 5;
    backend.kMeansPlusPlusStep(v, chosen, minDistance, exponent, 0.5);
    float[] d = backend.download(minDistance);
    float[] c = new float[DIM];
    int perRow = COLS / DIM;
    System.arraycopy(x, (chosen / perRow) * COLS + (chosen % perRow) * DIM, c, 0, DIM);
    double total = 0;
    for (int i = 0; i < v.count(); i++) {
      double expected = 0;
      for (int t = 0; t < DIM; t++) {
        double diff = x[(i / perRow) * COLS + (i % perRow) * DIM + t] - c[t];
        expected += h[(i % perRow) * DIM + t] * diff * diff;
      }
      expected *= f[i / perRow];
      assertEquals(expected, d[i], 1e-5 * (1 + expected), "distance of sub-vector " + i);
      total += d[i];
    }
    assertEquals(0f, d[chosen]);
    // Draws at evenly spread uniforms land on each sub-vector in proportion to its distance.
    int draws = 20_000;
    int[] hits = new int[v.count()];
    for (int k = 0; k < draws; k++) {
      hits[backend.kMeansPlusPlusStep(v, chosen, minDistance, exponent, (k + 0.5) / draws)]++;
    }
    for (int i = 0; i < v.count(); i++) {
      assertEquals(d[i] / total * draws, hits[i], 1.01, "draws of sub-vector " + i);
    }
  }

  @Test
  void kMeansPlusPlusReportsWhenEverySubVectorIsChosen() {
    float[] x = new float[ROWS * COLS];
    float[] h = positive(COLS);
    WeightedSubVectors v = problem(x, h, null);
    Tensor minDistance = backend.zeros(v.count(), 1);
    backend.fill(minDistance, Float.POSITIVE_INFINITY);
    assertEquals(-1, backend.kMeansPlusPlusStep(v, 0, minDistance, 30, 0.3));
  }

  /** A soft assignment of random logits over 3 candidates of a random codebook, with uses. */
  private SoftVqAssignment assignment(float temperature, boolean scales) {
    int n = 3;
    int count = ROWS * (COLS / DIM);
    int[] candidates = new int[count * n];
    for (int i = 0; i < count; i++) {
      int first = random.nextInt(ENTRIES);
      for (int c = 0; c < n; c++) {
        candidates[i * n + c] = (first + 3 * c) % ENTRIES;
      }
    }
    int[][] uses = SoftVqAssignment.codewordUses(candidates, ENTRIES);
    return new SoftVqAssignment(ROWS, COLS, DIM, IndexTensors.upload(backend, candidates, count, n),
        backend.upload(gaussian(random, count * n, 1.0), count, n), temperature,
        backend.upload(gaussian(random, ENTRIES * DIM, 1.0), ENTRIES, DIM),
        scales ? backend.upload(positive(ROWS), ROWS, 1) : null,
        IndexTensors.upload(backend, uses[0], 1, ENTRIES + 1),
        IndexTensors.upload(backend, uses[1], 1, count * n));
  }

  private float[] softWeights(SoftVqAssignment a) {
    Tensor out = backend.zeros(ROWS, COLS);
    backend.softVqWeights(a, out);
    return backend.download(out);
  }

  @Test
  void softWeightsMixTheCandidatesBySoftmax() {
    SoftVqAssignment a = assignment(0.7f, true);
    float[] w = softWeights(a);
    float[] logits = backend.download(a.logits());
    int[] candidates = IndexTensors.download(backend, a.candidates());
    float[] codebook = backend.download(a.codebook());
    float[] scales = backend.download(a.rowScales());
    int n = a.candidateCount();
    int perRow = COLS / DIM;
    for (int i = 0; i < a.count(); i++) {
      double[] p = new double[n];
      double sum = 0;
      for (int c = 0; c < n; c++) {
        p[c] = Math.exp(logits[i * n + c] / 0.7);
        sum += p[c];
      }
      for (int t = 0; t < DIM; t++) {
        double expected = 0;
        for (int c = 0; c < n; c++) {
          expected += p[c] / sum * codebook[candidates[i * n + c] * DIM + t];
        }
        expected *= scales[i / perRow];
        assertEquals(expected, w[(i / perRow) * COLS + (i % perRow) * DIM + t], 1e-5);
      }
    }
    // Near zero temperature the soft weight is the candidate of the largest logit.
    float[] hard = softWeights(a.withTemperature(1e-6f));
    for (int i = 0; i < a.count(); i++) {
      int best = 0;
      for (int c = 1; c < n; c++) {
        best = logits[i * n + c] > logits[i * n + best] ? c : best;
      }
      for (int t = 0; t < DIM; t++) {
        assertEquals(scales[i / perRow] * codebook[candidates[i * n + best] * DIM + t],
            hard[(i / perRow) * COLS + (i % perRow) * DIM + t], 1e-5);
      }
    }
  }

  @Test
  void softWeightGradientsMatchFiniteDifferences() {
    for (boolean scales : new boolean[] {false, true}) {
      SoftVqAssignment a = assignment(0.8f, scales);
      float[] r = gaussian(random, ROWS * COLS, 1.0);
      Tensor dLogits = backend.zeros(a.count(), a.candidateCount());
      Tensor dCodebook = backend.zeros(ENTRIES, DIM);
      backend.softVqWeightsBackward(a, backend.upload(r, ROWS, COLS), dLogits, dCodebook);
      DoubleSupplier loss = () -> weightedSum(softWeights(a), r);
      check("logits", CpuBackend.data(a.logits()), backend.download(dLogits), loss, 60, 2e-3,
          random);
      check("codebook", CpuBackend.data(a.codebook()), backend.download(dCodebook), loss, 30, 1e-3,
          random);
    }
  }

  @Test
  void softWeightGradientsAccumulate() {
    SoftVqAssignment a = assignment(1f, false);
    Tensor dOut = backend.upload(gaussian(random, ROWS * COLS, 1.0), ROWS, COLS);
    Tensor once = backend.zeros(a.count(), a.candidateCount());
    backend.softVqWeightsBackward(a, dOut, once, null);
    Tensor twice = backend.zeros(a.count(), a.candidateCount());
    backend.softVqWeightsBackward(a, dOut, twice, null);
    backend.softVqWeightsBackward(a, dOut, twice, null);
    float[] expected = backend.download(once);
    for (int i = 0; i < expected.length; i++) {
      expected[i] *= 2;
    }
    assertArrayEquals(expected, backend.download(twice), 1e-6f);
    assertTrue(Math.abs(expected[0]) > 0);
  }

  @Test
  void columnSquaresAccumulate() {
    float[] x = gaussian(random, 30 * 5, 1.0);
    Tensor sum = backend.upload(new float[] {1, 2, 3, 4, 5}, 1, 5);
    backend.accumulateColumnSquares(backend.upload(x, 30, 5), sum);
    float[] result = backend.download(sum);
    for (int c = 0; c < 5; c++) {
      double expected = c + 1;
      for (int r = 0; r < 30; r++) {
        expected += (double) x[r * 5 + c] * x[r * 5 + c];
      }
      assertEquals(expected, result[c], 1e-5);
    }
  }
}
