package dev.calibra.calibration.rotation;

import java.util.Random;

/**
 * Random orthogonal matrices that spread every input over every output, cheap to make at any
 * width: for n = m·2^k (m odd) the Kronecker product of a Gaussian m×m matrix made orthonormal
 * (Gram–Schmidt in double, twice for accuracy) and the normalised 2^k×2^k Hadamard matrix, with
 * random column signs. Made this way rather than by orthonormalising an n×n Gaussian matrix,
 * which costs n³ (minutes at the hidden width of a 7B model): real widths are powers of two or
 * small multiples of one (4096, 3072 = 3·1024, 288 = 9·32), so m stays small.
 */
public final class RandomOrthogonal {

  private RandomOrthogonal() {}

  /** An n×n orthogonal matrix, row-major, the same for the same {@code n} and {@code seed}. */
  public static float[] of(int n, long seed) {
    if (n < 1) {
      throw new IllegalArgumentException("width must be positive, got " + n);
    }
    int power = Integer.lowestOneBit(n);
    int odd = n / power;
    // java.util.Random: its sequence is specified, so every JVM (every Spark executor) makes
    // the same matrix from the same seed.
    Random random = new Random(seed);
    double[] gaussian = orthonormalRows(odd, random);
    double[] hadamard = hadamard(power);
    float[] q = new float[n * n];
    for (int col = 0; col < n; col++) {
      double sign = random.nextBoolean() ? 1 : -1;
      int a = col / power;
      int b = col % power;
      for (int row = 0; row < n; row++) {
        q[row * n + col] = (float) (sign * gaussian[(row / power) * odd + a]
            * hadamard[(row % power) * power + b]);
      }
    }
    return q;
  }

  /** An m×m matrix with orthonormal rows from Gaussian entries. */
  private static double[] orthonormalRows(int m, Random random) {
    double[] rows = new double[m * m];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = random.nextGaussian();
    }
    for (int i = 0; i < m; i++) {
      for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < i; j++) {
          double dot = 0;
          for (int k = 0; k < m; k++) {
            dot += rows[i * m + k] * rows[j * m + k];
          }
          for (int k = 0; k < m; k++) {
            rows[i * m + k] -= dot * rows[j * m + k];
          }
        }
      }
      double norm = 0;
      for (int k = 0; k < m; k++) {
        norm += rows[i * m + k] * rows[i * m + k];
      }
      norm = Math.sqrt(norm);
      for (int k = 0; k < m; k++) {
        rows[i * m + k] /= norm;
      }
    }
    return rows;
  }

  /** Sylvester's Hadamard matrix of width p (a power of two), divided by √p. */
  private static double[] hadamard(int p) {
    double[] h = new double[p * p];
    double entry = 1 / Math.sqrt(p);
    for (int i = 0; i < p; i++) {
      for (int j = 0; j < p; j++) {
        h[i * p + j] = Integer.bitCount(i & j) % 2 == 0 ? entry : -entry;
      }
    }
    return h;
  }
}
