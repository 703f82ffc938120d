package dev.calibra.model.cpu;

import dev.calibra.model.backend.WeightedSubVectors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CPU backend's vector-quantization ops: nearest codewords, Lloyd's centroid update and
 * k-means++ steps (see {@link WeightedSubVectors} for the distance, in the float operations the
 * GPU kernels use too: Math.fma where they fuse), and the soft assignment of VQ4DiT with its
 * gradients (see {@link dev.calibra.model.backend.SoftVqAssignment}). Sums across sub-vectors are
 * fixed-point integers or run in a fixed order, so results do not depend on threads.
 */
final class CpuVectorQuantizationOps {

  private CpuVectorQuantizationOps() {}

  /** The problem of {@link WeightedSubVectors} as arrays; rowWeights null for 1. */
  record Problem(float[] x, int rows, int cols, int dim, float[] channelWeights,
      float[] rowWeights) {

    int perRow() {
      return cols / dim;
    }

    int count() {
      return rows * perRow();
    }

    float rowWeight(int r) {
      return rowWeights == null ? 1f : rowWeights[r];
    }
  }

  static double nearestCodewords(Problem p, float[] codebook, float[] indices, int n,
      int exponent) {
    int dim = p.dim();
    int entries = codebook.length / dim;
    if (n > entries) {
      throw new IllegalArgumentException(n + " nearest codewords asked of a codebook of "
          + entries);
    }
    AtomicLong objective = new AtomicLong();
    double scale = Math.scalb(1.0, exponent);
    Parallel.forRange(p.perRow(), 1, (firstColumn, endColumn) -> {
      float[] q = new float[entries];
      float[] m = new float[dim];
      float[] best = new float[n];
      int[] bestIndex = new int[n];
      long sum = 0;
      for (int j = firstColumn; j < endColumn; j++) {
        int base = j * dim;
        for (int e = 0; e < entries; e++) {
          float acc = 0f;
          for (int t = 0; t < dim; t++) {
            float c = codebook[e * dim + t];
            acc = Math.fma(p.channelWeights()[base + t] * c, c, acc);
          }
          q[e] = acc;
        }
        for (int r = 0; r < p.rows(); r++) {
          int offset = r * p.cols() + base;
          float norm = 0f;
          for (int t = 0; t < dim; t++) {
            float h = p.channelWeights()[base + t];
            float x = p.x()[offset + t];
            m[t] = (-2f * h) * x;
            norm = Math.fma(h * x, x, norm);
          }
          java.util.Arrays.fill(best, Float.POSITIVE_INFINITY);
          java.util.Arrays.fill(bestIndex, 0);
          for (int e = 0; e < entries; e++) {
            float score = q[e];
            for (int t = 0; t < dim; t++) {
              score = Math.fma(m[t], codebook[e * dim + t], score);
            }
            insert(best, bestIndex, score, e);
          }
          int i = r * p.perRow() + j;
          for (int c = 0; c < n; c++) {
            indices[i * n + c] = Float.intBitsToFloat(bestIndex[c]);
          }
          float distance = Math.max(0f, p.rowWeight(r) * (norm + best[0]));
          sum += (long) Math.rint(distance * scale);
        }
      }
      objective.addAndGet(sum);
    });
    return Math.scalb((double) objective.get(), -exponent);
  }

  /**
   * Keeps best[] ascending: the new score moves down from the top while it is strictly smaller,
   * so an equal score never displaces an earlier (lower) index.
   */
  private static void insert(float[] best, int[] bestIndex, float score, int index) {
    float carried = score;
    int carriedIndex = index;
    for (int s = 0; s < best.length; s++) {
      if (carried < best[s]) {
        float f = best[s];
        best[s] = carried;
        carried = f;
        int k = bestIndex[s];
        bestIndex[s] = carriedIndex;
        carriedIndex = k;
      }
    }
  }

  static void updateCentroids(Problem p, float[] assignment, float[] codebook, int exponent) {
    int dim = p.dim();
    int entries = codebook.length / dim;
    long[] numerator = new long[codebook.length];
    long[] denominator = new long[codebook.length];
    double scale = Math.scalb(1.0, exponent);
    Parallel.forRange(p.rows(), 16, (firstRow, endRow) -> {
      long[] num = new long[codebook.length];
      long[] den = new long[codebook.length];
      for (int r = firstRow; r < endRow; r++) {
        float f = p.rowWeight(r);
        for (int j = 0; j < p.perRow(); j++) {
          int e = Float.floatToRawIntBits(assignment[r * p.perRow() + j]);
          if (e < 0 || e >= entries) {
            throw new IllegalArgumentException("assignment " + e + " of sub-vector ("
                + r + ", " + j + ") is outside the codebook of " + entries + " entries");
          }
          for (int t = 0; t < dim; t++) {
            float w = f * p.channelWeights()[j * dim + t];
            num[e * dim + t] += (long) Math.rint(w * p.x()[r * p.cols() + j * dim + t] * scale);
            den[e * dim + t] += (long) Math.rint(w * scale);
          }
        }
      }
      synchronized (numerator) {
        for (int k = 0; k < num.length; k++) {
          numerator[k] += num[k];
          denominator[k] += den[k];
        }
      }
    });
    for (int k = 0; k < codebook.length; k++) {
      if (denominator[k] != 0) {
        codebook[k] = (float) ((double) numerator[k] / (double) denominator[k]);
      }
    }
  }

  static int kMeansPlusPlusStep(Problem p, int chosen, float[] minDistance, int exponent,
      double uniform) {
    int dim = p.dim();
    if (chosen < 0 || chosen >= p.count()) {
      throw new IllegalArgumentException("sub-vector " + chosen + " does not exist: there are "
          + p.count());
    }
    int chosenOffset = (chosen / p.perRow()) * p.cols() + (chosen % p.perRow()) * dim;
    float[] centroid = java.util.Arrays.copyOfRange(p.x(), chosenOffset, chosenOffset + dim);
    double scale = Math.scalb(1.0, exponent);
    long[] fixed = new long[p.count()];
    Parallel.forRange(p.rows(), 16, (firstRow, endRow) -> {
      for (int r = firstRow; r < endRow; r++) {
        for (int j = 0; j < p.perRow(); j++) {
          int offset = r * p.cols() + j * dim;
          float d = 0f;
          for (int t = 0; t < dim; t++) {
            float diff = p.x()[offset + t] - centroid[t];
            d = Math.fma(p.channelWeights()[j * dim + t] * diff, diff, d);
          }
          int i = r * p.perRow() + j;
          minDistance[i] = Math.min(minDistance[i], p.rowWeight(r) * d);
          fixed[i] = (long) Math.rint(minDistance[i] * scale);
        }
      }
    });
    long total = 0;
    for (long f : fixed) {
      total += f;
    }
    if (total == 0) {
      return -1;
    }
    long target = Math.min(total - 1, (long) Math.floor(uniform * (double) total));
    long running = 0;
    for (int i = 0; i < fixed.length; i++) {
      running += fixed[i];
      if (running > target) {
        return i;
      }
    }
    throw new IllegalStateException("unreachable: the running sum ends at the total");
  }

  /** A soft assignment as arrays; rowScales null for 1, uses null without codebook gradient. */
  record Assignment(int rows, int cols, int dim, int n, float[] candidates, float[] logits,
      float temperature, float[] codebook, float[] rowScales, float[] useOffsets, float[] uses) {

    int perRow() {
      return cols / dim;
    }

    int count() {
      return rows * perRow();
    }

    int candidate(int slot) {
      return Float.floatToRawIntBits(candidates[slot]);
    }

    float scale(int r) {
      return rowScales == null ? 1f : rowScales[r];
    }

    /** softmax(logits[i, ·] / T) into p[i·n …]. */
    void probabilities(int i, float[] p) {
      float max = logits[i * n];
      for (int c = 1; c < n; c++) {
        max = Math.max(max, logits[i * n + c]);
      }
      double[] e = new double[n];
      double sum = 0;
      for (int c = 0; c < n; c++) {
        float z = (logits[i * n + c] - max) / temperature;
        e[c] = Math.exp(z);
        sum += e[c];
      }
      for (int c = 0; c < n; c++) {
        p[i * n + c] = (float) (e[c] / sum);
      }
    }

    float[] allProbabilities() {
      float[] p = new float[count() * n];
      Parallel.forRange(count(), 256, (first, end) -> {
        for (int i = first; i < end; i++) {
          probabilities(i, p);
        }
      });
      return p;
    }
  }

  static void softWeights(Assignment a, float[] out) {
    int dim = a.dim();
    int entries = a.codebook().length / dim;
    float[] p = a.allProbabilities();
    Parallel.forRange(a.count(), 256, (first, end) -> {
      float[] acc = new float[dim];
      for (int i = first; i < end; i++) {
        int r = i / a.perRow();
        java.util.Arrays.fill(acc, 0f);
        for (int c = 0; c < a.n(); c++) {
          int e = a.candidate(i * a.n() + c);
          if (e < 0 || e >= entries) {
            throw new IllegalArgumentException("candidate " + e + " of sub-vector " + i
                + " is outside the codebook of " + entries + " entries");
          }
          for (int t = 0; t < dim; t++) {
            acc[t] += p[i * a.n() + c] * a.codebook()[e * dim + t];
          }
        }
        int offset = r * a.cols() + (i % a.perRow()) * dim;
        for (int t = 0; t < dim; t++) {
          out[offset + t] = a.rowScales() == null ? acc[t] : a.scale(r) * acc[t];
        }
      }
    });
  }

  static void softWeightsBackward(Assignment a, float[] dOut, float[] dLogits, float[] dCodebook) {
    int dim = a.dim();
    int n = a.n();
    float[] p = a.allProbabilities();
    Parallel.forRange(a.count(), 256, (first, end) -> {
      float[] g = new float[n];
      for (int i = first; i < end; i++) {
        int r = i / a.perRow();
        int offset = r * a.cols() + (i % a.perRow()) * dim;
        float mean = 0f;
        for (int c = 0; c < n; c++) {
          int e = a.candidate(i * n + c);
          float dot = 0f;
          for (int t = 0; t < dim; t++) {
            dot += a.codebook()[e * dim + t] * dOut[offset + t];
          }
          g[c] = a.rowScales() == null ? dot : a.scale(r) * dot;
          mean += p[i * n + c] * g[c];
        }
        for (int c = 0; c < n; c++) {
          dLogits[i * n + c] += p[i * n + c] * (g[c] - mean) / a.temperature();
        }
      }
    });
    if (dCodebook == null) {
      return;
    }
    int entries = a.codebook().length / dim;
    Parallel.forRange(entries, 64, (first, end) -> {
      for (int e = first; e < end; e++) {
        int from = Float.floatToRawIntBits(a.useOffsets()[e]);
        int to = Float.floatToRawIntBits(a.useOffsets()[e + 1]);
        for (int t = 0; t < dim; t++) {
          double acc = 0;
          for (int u = from; u < to; u++) {
            int slot = Float.floatToRawIntBits(a.uses()[u]);
            int i = slot / n;
            int r = i / a.perRow();
            int offset = r * a.cols() + (i % a.perRow()) * dim;
            acc += (a.scale(r) * p[slot]) * dOut[offset + t];
          }
          dCodebook[e * dim + t] += (float) acc;
        }
      }
    });
  }
}
