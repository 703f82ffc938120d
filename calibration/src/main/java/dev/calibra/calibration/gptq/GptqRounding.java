package dev.calibra.calibration.gptq;

import dev.calibra.calibration.uniform.GroupGrid;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;

/**
 * GPTQ's rounding of one weight matrix (Frantar et al., "GPTQ: Accurate Post-Training
 * Quantization for Generative Pre-trained Transformers"): the columns of W (out × in) are
 * rounded to nearest in order, and each column's rounding error is spread over the columns not
 * yet rounded, weighted by the inverse of H = XᵀX (X the layer's inputs), so that the later
 * columns make up for what the earlier ones lost in the layer's output.
 *
 * <p>As the reference implementation of shared/README.md's GPTQ column: 1% dampening, columns in
 * their natural order (no act-order), and each group's round-to-nearest grid
 * ({@link GroupGrid}: min/max, no clipping) fixed from the error-updated weights when its first
 * column is reached. Input channels that never carry a value (a zero diagonal of H) get zero
 * weights, as there. Arithmetic is double; each weight is rounded as the float the packed model
 * holds.
 */
final class GptqRounding {

  /** Added to H's diagonal, relative to its mean: the reference's 1% dampening. */
  static final double DAMPING = 0.01;

  private GptqRounding() {}

  /**
   * What GPTQ needs of a layer's inputs: which input channels are dead (never carry a value)
   * and the upper Cholesky factor of the damped inverse of H = XᵀX. Layers that read the same
   * inputs (q, k, v; gate, up) share one.
   */
  record InverseHessian(boolean[] dead, double[][] upper) {

    /** From XᵀX of the inputs ({@code channels} × {@code channels}, row-major). */
    static InverseHessian of(float[] gram, int channels) {
      if (gram.length != channels * channels) {
        throw new IllegalArgumentException("a Gram matrix of " + gram.length + " entries for "
            + channels + " channels");
      }
      // A dead channel's weights change nothing: they become zero and its pivot one.
      float[] h = gram.clone();
      boolean[] dead = new boolean[channels];
      for (int c = 0; c < channels; c++) {
        dead[c] = gram[c * channels + c] == 0f;
        if (dead[c]) {
          h[c * channels + c] = 1f;
        }
      }
      return new InverseHessian(dead, upperCholeskyOfInverse(h, channels));
    }
  }

  /** Quantizes {@code weights} (rows × cols, row-major) for inputs described by {@code inputs}. */
  static QuantizedMatrix quantize(float[] weights, int rows, int cols, InverseHessian inputs,
      QuantizationScheme scheme) {
    if (weights.length != rows * cols || inputs.dead().length != cols) {
      throw new IllegalArgumentException(weights.length + " weights for a " + rows + "×" + cols
          + " layer reading " + inputs.dead().length + " channels");
    }
    double[] w = new double[weights.length];
    for (int i = 0; i < w.length; i++) {
      if (!Float.isFinite(weights[i])) {
        throw new IllegalArgumentException("weight (" + i / cols + ", " + i % cols + ") is "
            + weights[i] + ": cannot quantize non-finite values");
      }
      w[i] = inputs.dead()[i % cols] ? 0 : weights[i];
    }
    double[][] u = inputs.upper();
    int width = scheme.groupWidth(cols);
    int groups = scheme.groupsPerRow(cols);
    int maxCode = scheme.levels() - 1;
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * groups];
    int[] zeros = new int[rows * groups];
    GroupGrid[] grids = new GroupGrid[rows];
    double[] error = new double[rows];
    for (int j = 0; j < cols; j++) {
      if (j % width == 0) {
        int g = j / width;
        int end = Math.min(cols, j + width);
        for (int r = 0; r < rows; r++) {
          float min = 0f;
          float max = 0f;
          for (int c = j; c < end; c++) {
            float x = (float) w[r * cols + c];
            min = Math.min(min, x);
            max = Math.max(max, x);
          }
          grids[r] = GroupGrid.of(min, max, maxCode);
          scales[r * groups + g] = grids[r].scale();
          zeros[r * groups + g] = grids[r].zero();
        }
      }
      for (int r = 0; r < rows; r++) {
        float x = (float) w[r * cols + j];
        int code = grids[r].code(x);
        codes[r * cols + j] = (byte) code;
        error[r] = (x - grids[r].value(code)) / u[j][j];
      }
      for (int r = 0; r < rows; r++) {
        int row = r * cols;
        double e = error[r];
        double[] spread = u[j];
        for (int k = j + 1; k < cols; k++) {
          w[row + k] -= e * spread[k];
        }
      }
    }
    return new QuantizedMatrix(scheme, rows, cols, codes, scales, zeros);
  }

  /**
   * The upper Cholesky factor U of (H + λI)⁻¹ (H⁻¹ = UᵀU), with λ = {@link #DAMPING} times the
   * mean of H's diagonal: row j of U, divided by U[j][j], is how the error of column j spreads
   * over the columns after it, and U[j][j]² is H⁻¹[j][j] given the columns before j fixed.
   */
  static double[][] upperCholeskyOfInverse(float[] gram, int n) {
    double mean = 0;
    for (int i = 0; i < n; i++) {
      mean += gram[i * n + i];
    }
    double damping = DAMPING * mean / n;
    double[][] h = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        h[i][k] = gram[i * n + k];
      }
      h[i][i] += damping;
    }
    double[][] lower = lowerCholesky(h);
    // L⁻¹ by forward substitution, column by column, then H⁻¹ = L⁻ᵀL⁻¹.
    double[][] inverseLower = new double[n][n];
    for (int c = 0; c < n; c++) {
      inverseLower[c][c] = 1 / lower[c][c];
      for (int i = c + 1; i < n; i++) {
        double sum = 0;
        for (int k = c; k < i; k++) {
          sum += lower[i][k] * inverseLower[k][c];
        }
        inverseLower[i][c] = -sum / lower[i][i];
      }
    }
    double[][] inverse = new double[n][n];
    for (int m = 0; m < n; m++) {
      double[] row = inverseLower[m];
      for (int i = 0; i <= m; i++) {
        double a = row[i];
        if (a == 0) {
          continue;
        }
        double[] target = inverse[i];
        for (int k = i; k <= m; k++) {
          target[k] += a * row[k];
        }
      }
    }
    for (int i = 0; i < n; i++) {
      for (int k = i + 1; k < n; k++) {
        inverse[k][i] = inverse[i][k];
      }
    }
    double[][] l = lowerCholesky(inverse);
    double[][] upper = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k <= i; k++) {
        upper[k][i] = l[i][k];
      }
    }
    return upper;
  }

  private static double[][] lowerCholesky(double[][] a) {
    int n = a.length;
    double[][] l = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k <= i; k++) {
        double sum = a[i][k];
        double[] li = l[i];
        double[] lk = l[k];
        for (int m = 0; m < k; m++) {
          sum -= li[m] * lk[m];
        }
        if (i == k) {
          if (!(sum > 0)) {
            throw new IllegalStateException("GPTQ's damped Hessian is not positive definite "
                + "(pivot " + i + " is " + sum + "): are the layer's inputs finite?");
          }
          li[i] = Math.sqrt(sum);
        } else {
          li[k] = sum / lk[k];
        }
      }
    }
    return l;
  }
}
