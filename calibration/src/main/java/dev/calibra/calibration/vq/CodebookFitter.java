package dev.calibra.calibration.vq;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.IndexTensors;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.backend.WeightedSubVectors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fits a codebook to a layer's sub-vectors by weighted k-means: k-means++ seeding, then Lloyd
 * iterations (nearest codewords, then weighted means) until the objective stops falling by more
 * than a relative tolerance or an iteration limit. The objective is the weighted squared error
 * of {@link WeightedSubVectors}, Σ f[r]·h[c]·(x − codeword)², which for h the diagonal of the
 * input's XᵀX and f = s² of the row scales is the layer's output error, channel by channel.
 *
 * <p>The work runs in the backend's ops (on a GPU the distances are a matrix product with a fused
 * arg-min), with all sums in fixed point: for one seed, every backend fits the same codebook.
 * Codewords that lose all their sub-vectors keep their place. Each recorded objective belongs to
 * an assignment and the codebook it was made with; Lloyd's steps never raise it (up to the
 * float rounding of the distances).
 */
public final class CodebookFitter {

  /** How long to iterate: at most {@code maxIterations} updates, stopping early at convergence. */
  public record Limits(int maxIterations, double tolerance) {

    public Limits {
      if (maxIterations < 0) {
        throw new IllegalArgumentException("iterations must be ≥ 0, got " + maxIterations);
      }
    }

    /**
     * Converged when an update lowers the objective by at most {@code tolerance} times its
     * value; a negative tolerance runs every iteration.
     */
    boolean converged(double previous, double current) {
      return previous - current <= tolerance * previous;
    }
  }

  /**
   * A fitted codebook.
   *
   * @param codebook entries × dim, float32
   * @param assignment each sub-vector's nearest codeword under the final codebook
   * @param objectives the objective of the seeding and after each update, in order
   * @param seedingSeconds wall time of k-means++ seeding
   * @param lloydSeconds wall time of the Lloyd iterations
   */
  public record Fit(float[] codebook, int[] assignment, double[] objectives,
      double seedingSeconds, double lloydSeconds) {

    public int iterations() {
      return objectives.length - 1;
    }
  }

  private CodebookFitter() {}

  /**
   * Fits {@code entries} codewords to the sub-vectors of x (rows × cols, cut into sub-vectors of
   * {@code dim} columns).
   *
   * @param channelWeights h, one per column, ≥ 0
   * @param rowWeights f, one per row, ≥ 0, or null for 1
   * @param seed seeds the k-means++ draws
   */
  public static Fit fit(Backend backend, float[] x, int rows, int cols, int dim, int entries,
      float[] channelWeights, float[] rowWeights, long seed, Limits limits) {
    int count = rows * (cols / dim);
    if (entries >= count) {
      return everySubVectorItsOwn(x, rows, cols, dim, entries);
    }
    Tensor weight = backend.upload(x, rows, cols);
    Tensor h = backend.upload(channelWeights, 1, cols);
    Tensor f = rowWeights == null ? null : backend.upload(rowWeights, rows, 1);
    WeightedSubVectors v = new WeightedSubVectors(weight, dim, h, f);
    double weightTotal = total(channelWeights) * (rowWeights == null ? rows : total(rowWeights));
    double largest = largestMagnitude(x);
    int distanceExponent = exponent(4 * largest * largest * weightTotal);
    int centroidExponent = exponent(Math.max(1, largest) * weightTotal);

    long start = System.nanoTime();
    float[] codebook = seed(backend, v, x, entries, distanceExponent, seed);
    double seedingSeconds = (System.nanoTime() - start) / 1e9;

    start = System.nanoTime();
    Tensor book = backend.upload(codebook, entries, dim);
    Tensor assignment = backend.zeros(count, 1);
    List<Double> objectives = new ArrayList<>();
    objectives.add(backend.nearestCodewords(v, book, assignment, distanceExponent));
    for (int i = 0; i < limits.maxIterations(); i++) {
      backend.updateCentroids(v, assignment, book, centroidExponent);
      double objective = backend.nearestCodewords(v, book, assignment, distanceExponent);
      double previous = objectives.get(objectives.size() - 1);
      objectives.add(objective);
      if (limits.converged(previous, objective)) {
        break;
      }
    }
    Fit fit = new Fit(backend.download(book), IndexTensors.download(backend, assignment),
        objectives.stream().mapToDouble(Double::doubleValue).toArray(), seedingSeconds,
        (System.nanoTime() - start) / 1e9);
    for (Tensor t : new Tensor[] {weight, h, f, book, assignment}) {
      if (t != null) {
        t.close();
      }
    }
    return fit;
  }

  /**
   * k-means++: the first codeword a uniformly drawn sub-vector, each next one drawn with
   * probability proportional to its distance to the nearest codeword so far. When every
   * sub-vector coincides with a chosen one, the rest repeat the chosen ones (and stay empty).
   */
  private static float[] seed(Backend backend, WeightedSubVectors v, float[] x, int entries,
      int exponent, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] chosen = new int[entries];
    chosen[0] = random.nextInt(v.count());
    int found = 1;
    Tensor minDistance = backend.zeros(v.count(), 1);
    backend.fill(minDistance, Float.POSITIVE_INFINITY);
    while (found < entries) {
      int next = backend.kMeansPlusPlusStep(v, chosen[found - 1], minDistance, exponent,
          random.nextDouble());
      if (next < 0) {
        break;
      }
      chosen[found++] = next;
    }
    minDistance.close();
    int dim = v.dim();
    float[] codebook = new float[entries * dim];
    for (int e = 0; e < entries; e++) {
      int i = chosen[e % found];
      System.arraycopy(x, (i / v.perRow()) * v.cols() + (i % v.perRow()) * dim, codebook,
          e * dim, dim);
    }
    return codebook;
  }

  /** At least as many codewords as sub-vectors: each sub-vector is its own (objective 0). */
  private static Fit everySubVectorItsOwn(float[] x, int rows, int cols, int dim, int entries) {
    int perRow = cols / dim;
    int count = rows * perRow;
    float[] codebook = new float[entries * dim];
    int[] assignment = new int[count];
    for (int i = 0; i < count; i++) {
      System.arraycopy(x, (i / perRow) * cols + (i % perRow) * dim, codebook, i * dim, dim);
      assignment[i] = i;
    }
    return new Fit(codebook, assignment, new double[] {0}, 0, 0);
  }

  private static int exponent(double bound) {
    return WeightedSubVectors.fixedPointExponent(bound > 0 ? bound : 1);
  }

  private static double total(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += v;
    }
    return sum;
  }

  private static double largestMagnitude(float[] values) {
    double largest = 0;
    for (float v : values) {
      largest = Math.max(largest, Math.abs(v));
    }
    return largest;
  }
}
