package dev.calibra.model.cpu;

import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.CounterRandom;
import dev.calibra.model.backend.LearnedWeightQuantization;

/**
 * The CPU backend's calibration ops: learned weight fake-quantization and its straight-through
 * gradients, the rounding regulariser, reconstruction losses, Adam and activation quantization.
 * Arithmetic is float32 per element, as a GPU kernel does it; sums are double and added up in a
 * fixed order, so results do not depend on the number of threads.
 */
final class CpuQuantizationOps {

  /** The rectified sigmoid h(v) = clamp(ζ·σ(v) + γ, 0, 1) of AdaRound, with ζ = 1.1, γ = −0.1. */
  private static final float STRETCH = 1.2f;
  private static final float SHIFT = -0.1f;

  private CpuQuantizationOps() {}

  static float sigmoid(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-x)));
  }

  static float rectifiedSigmoid(float v) {
    return Math.max(0f, Math.min(1f, STRETCH * sigmoid(v) + SHIFT));
  }

  /** dh/dv, 0 where the clamp is active. */
  private static float rectifiedSigmoidSlope(float v) {
    float sig = sigmoid(v);
    float h = STRETCH * sig + SHIFT;
    return h <= 0f || h >= 1f ? 0f : STRETCH * sig * (1f - sig);
  }

  /** The clipped range and step of one group: the first part of every quantization op. */
  private record GroupGrid(float lower, float upper, float rawStep, float step, float zero) {

    static GroupGrid of(LearnedWeightQuantization q, float[] gMin, float[] gMax, float[] cLow,
        float[] cUp, int index) {
      float lower = cLow == null ? gMin[index] : sigmoid(cLow[index]) * gMin[index];
      float upper = cUp == null ? gMax[index] : sigmoid(cUp[index]) * gMax[index];
      float rawStep = (upper - lower) / q.maxCode();
      float step = Math.max(rawStep, LearnedWeightQuantization.MIN_STEP);
      return new GroupGrid(lower, upper, rawStep, step, (float) Math.rint(-lower / step));
    }
  }

  /** logit((frac(x) + 0.1)/1.2): the rounding logit at which h equals frac(x). */
  static float anchor(float x) {
    double p = ((x - Math.floor(x)) - SHIFT) / STRETCH;
    return (float) Math.log(p / (1 - p));
  }

  /** The soft rounding logit (a + R)/T of element i with x = w/s. */
  private static float roundingLogit(float x, LearnedWeightQuantization q, float[] rounding,
      int i) {
    return (anchor(x) + rounding[i]) / q.roundingTemperature();
  }

  /** Unclamped code q of weight w under the group grid (see LearnedWeightQuantization). */
  private static float code(float w, GroupGrid grid, LearnedWeightQuantization q,
      float[] rounding, int index, boolean hard) {
    float x = w / grid.step;
    if (rounding == null) {
      return (float) Math.rint(x) + grid.zero;
    }
    float h = hard ? (anchor(x) + rounding[index] >= 0f ? 1f : 0f)
        : rectifiedSigmoid(roundingLogit(x, q, rounding, index));
    return (float) Math.floor(x) + h + grid.zero;
  }

  static void fakeQuantizeWeights(LearnedWeightQuantization q, boolean hard, float[] out,
      float[] scales, float[] zeros) {
    float[] w = CpuBackend.data(q.weight());
    float[] gMin = CpuBackend.data(q.groupMin());
    float[] gMax = CpuBackend.data(q.groupMax());
    float[] cLow = dataOrNull(q.clipLower());
    float[] cUp = dataOrNull(q.clipUpper());
    float[] rounding = dataOrNull(q.rounding());
    int cols = q.weight().cols();
    int groups = q.groups();
    float maxCode = q.maxCode();
    Parallel.forRange(q.weight().rows(), 8, (start, end) -> {
      for (int r = start; r < end; r++) {
        for (int g = 0; g < groups; g++) {
          int groupIndex = r * groups + g;
          GroupGrid grid = GroupGrid.of(q, gMin, gMax, cLow, cUp, groupIndex);
          if (scales != null) {
            scales[groupIndex] = grid.step;
          }
          if (zeros != null) {
            zeros[groupIndex] = grid.zero;
          }
          int first = r * cols + g * q.groupSize();
          int last = r * cols + Math.min(cols, (g + 1) * q.groupSize());
          for (int i = first; i < last; i++) {
            float c = Math.max(0f, Math.min(maxCode, code(w[i], grid, q, rounding, i, hard)));
            out[i] = grid.step * (c - grid.zero);
          }
        }
      }
    });
  }

  /**
   * With the straight-through estimator, floor(w/s) and round(·) pass gradients as the identity.
   * Inside the grid ŵ = s·(floor(w/s) + h) (z cancels), so ∂ŵ/∂s = q − z − w/s and ∂ŵ/∂h = s;
   * below or above it ŵ = s·(c − z) with z = round(−l/s), so ∂ŵ/∂s = c − z − l/s and ∂ŵ/∂l = 1.
   * Then s = (u − l)/qmax, u = σ(γu)·max and l = σ(γl)·min carry the group sums to the logits.
   */
  static void fakeQuantizeWeightsBackward(LearnedWeightQuantization q, float[] dOut,
      float[] dRounding, float[] dClipLower, float[] dClipUpper) {
    float[] w = CpuBackend.data(q.weight());
    float[] gMin = CpuBackend.data(q.groupMin());
    float[] gMax = CpuBackend.data(q.groupMax());
    float[] cLow = dataOrNull(q.clipLower());
    float[] cUp = dataOrNull(q.clipUpper());
    float[] rounding = dataOrNull(q.rounding());
    int cols = q.weight().cols();
    int groups = q.groups();
    float maxCode = q.maxCode();
    Parallel.forRange(q.weight().rows(), 8, (start, end) -> {
      for (int r = start; r < end; r++) {
        for (int g = 0; g < groups; g++) {
          int groupIndex = r * groups + g;
          GroupGrid grid = GroupGrid.of(q, gMin, gMax, cLow, cUp, groupIndex);
          int first = r * cols + g * q.groupSize();
          int last = r * cols + Math.min(cols, (g + 1) * q.groupSize());
          double dStep = 0;
          double dLowerDirect = 0;
          for (int i = first; i < last; i++) {
            float grad = dOut[i];
            float scaled = w[i] / grid.step;
            float c = code(w[i], grid, q, rounding, i, false);
            float dV = 0f;
            if (c < 0f || c > maxCode) {
              float clamped = c < 0f ? 0f : maxCode;
              dStep += grad * (clamped - grid.zero - grid.lower / grid.step);
              dLowerDirect += grad;
            } else {
              dStep += grad * (c - grid.zero - scaled);
              if (rounding != null) {
                dV = grad * grid.step * rectifiedSigmoidSlope(roundingLogit(scaled, q, rounding, i))
                    / q.roundingTemperature();
              }
            }
            if (dRounding != null) {
              dRounding[i] = dV;
            }
          }
          // A collapsed range sits on MIN_STEP, where s no longer depends on u and l.
          double dStepToRange = grid.rawStep < LearnedWeightQuantization.MIN_STEP ? 0 : dStep / maxCode;
          if (dClipUpper != null && cUp != null) {
            float sig = sigmoid(cUp[groupIndex]);
            dClipUpper[groupIndex] += (float) (dStepToRange * sig * (1 - sig) * gMax[groupIndex]);
          }
          if (dClipLower != null && cLow != null) {
            float sig = sigmoid(cLow[groupIndex]);
            dClipLower[groupIndex] +=
                (float) ((dLowerDirect - dStepToRange) * sig * (1 - sig) * gMin[groupIndex]);
          }
        }
      }
    });
  }

  /**
   * Σ (1 − |2h − 1|^β) over the soft rounding offsets; with v = (a + R)/T,
   * d/dR = −β·|2h − 1|^(β−1)·sign(2h − 1)·2·h'(v)/T.
   */
  static double roundingRegularizer(LearnedWeightQuantization q, float beta, float weight,
      float[] dRounding) {
    float[] w = CpuBackend.data(q.weight());
    float[] gMin = CpuBackend.data(q.groupMin());
    float[] gMax = CpuBackend.data(q.groupMax());
    float[] cLow = dataOrNull(q.clipLower());
    float[] cUp = dataOrNull(q.clipUpper());
    float[] rounding = CpuBackend.data(q.rounding());
    int rows = q.weight().rows();
    int cols = q.weight().cols();
    int groups = q.groups();
    double[] rowSums = new double[rows];
    Parallel.forRange(rows, 8, (start, end) -> {
      for (int r = start; r < end; r++) {
        double sum = 0;
        for (int g = 0; g < groups; g++) {
          GroupGrid grid = GroupGrid.of(q, gMin, gMax, cLow, cUp, r * groups + g);
          int first = r * cols + g * q.groupSize();
          int last = r * cols + Math.min(cols, (g + 1) * q.groupSize());
          for (int i = first; i < last; i++) {
            float v = roundingLogit(w[i] / grid.step, q, rounding, i);
            float t = 2f * rectifiedSigmoid(v) - 1f;
            float magnitude = Math.abs(t);
            sum += 1.0 - Math.pow(magnitude, beta);
            float slope = rectifiedSigmoidSlope(v);
            if (slope != 0f && magnitude > 0f) {
              double d = -beta * Math.pow(magnitude, beta - 1) * Math.signum(t) * 2 * slope
                  / q.roundingTemperature();
              dRounding[i] += (float) (weight * d);
            }
          }
        }
        rowSums[r] = sum;
      }
    });
    return sumInOrder(rowSums);
  }

  static double squaredError(float[] pred, float[] target, int rows, int cols, float gradScale,
      float[] dPred) {
    double[] rowSums = new double[rows];
    Parallel.forRange(rows, 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        double sum = 0;
        for (int i = r * cols; i < (r + 1) * cols; i++) {
          float diff = pred[i] - target[i];
          sum += (double) diff * diff;
          dPred[i] = gradScale * 2f * diff;
        }
        rowSums[r] = sum;
      }
    });
    return sumInOrder(rowSums);
  }

  /** KL(p ‖ q) with p = softmax(target/T), q = softmax(pred/T); ∂/∂pred = (q − p)/T. */
  static double softmaxKlDivergence(float[] target, float[] pred, int rows, int cols,
      float temperature, float gradScale, float[] dPred) {
    double[] rowSums = new double[rows];
    Parallel.forRange(rows, 8, (start, end) -> {
      double[] logP = new double[cols];
      double[] logQ = new double[cols];
      for (int r = start; r < end; r++) {
        int base = r * cols;
        logSoftmax(target, base, cols, temperature, logP);
        logSoftmax(pred, base, cols, temperature, logQ);
        double kl = 0;
        for (int c = 0; c < cols; c++) {
          double p = Math.exp(logP[c]);
          kl += p * (logP[c] - logQ[c]);
          dPred[base + c] += (float) (gradScale * (Math.exp(logQ[c]) - p) / temperature);
        }
        rowSums[r] = kl;
      }
    });
    return sumInOrder(rowSums);
  }

  private static void logSoftmax(float[] x, int base, int cols, float temperature, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < cols; c++) {
      max = Math.max(max, x[base + c] / temperature);
    }
    double sum = 0;
    for (int c = 0; c < cols; c++) {
      sum += Math.exp(x[base + c] / temperature - max);
    }
    double logNorm = max + Math.log(sum);
    for (int c = 0; c < cols; c++) {
      out[c] = x[base + c] / temperature - logNorm;
    }
  }

  static void adamUpdate(float[] param, float[] grad, float[] m, float[] v, AdamStep step) {
    float beta1 = step.beta1();
    float beta2 = step.beta2();
    float c1 = step.firstMomentCorrection();
    float c2 = step.secondMomentCorrection();
    float lr = step.learningRate();
    float eps = step.epsilon();
    Parallel.forRange(param.length, 1 << 13, (start, end) -> {
      for (int i = start; i < end; i++) {
        float g = grad[i];
        m[i] = beta1 * m[i] + (1f - beta1) * g;
        v[i] = beta2 * v[i] + (1f - beta2) * g * g;
        param[i] -= lr * (m[i] / c1) / ((float) Math.sqrt(v[i] / c2) + eps);
      }
    });
  }

  static void fakeQuantizeActivations(float[] x, int rows, int cols, int bits,
      float dropProbability, long seed, float[] out) {
    float maxCode = (1 << bits) - 1;
    Parallel.forRange(rows, 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        int base = r * cols;
        float min = 0f;
        float max = 0f;
        for (int c = 0; c < cols; c++) {
          min = Math.min(min, x[base + c]);
          max = Math.max(max, x[base + c]);
        }
        if (max == min) {
          System.arraycopy(x, base, out, base, cols); // an all-zero row is exact already
          continue;
        }
        float step = (max - min) / maxCode;
        float zero = (float) Math.rint(-min / step);
        for (int c = 0; c < cols; c++) {
          int i = base + c;
          if (dropProbability > 0f && CounterRandom.uniform(seed, i) < dropProbability) {
            out[i] = x[i];
          } else {
            float code = Math.max(0f, Math.min(maxCode, (float) Math.rint(x[i] / step) + zero));
            out[i] = step * (code - zero);
          }
        }
      }
    });
  }

  static void columnAbsMax(float[] x, int rows, int cols, float[] runningMax) {
    Parallel.forRange(cols, 64, (start, end) -> {
      for (int c = start; c < end; c++) {
        float max = runningMax[c];
        for (int r = 0; r < rows; r++) {
          max = Math.max(max, Math.abs(x[r * cols + c]));
        }
        runningMax[c] = max;
      }
    });
  }

  static void scaleGroups(float[] w, int rows, int cols, float[] logScale, int groupSize,
      float[] out) {
    int groups = LearnedWeightQuantization.groups(cols, groupSize);
    Parallel.forRange(rows, 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        for (int g = 0; g < groups; g++) {
          float factor = (float) Math.exp(logScale[r * groups + g]);
          int last = Math.min(cols, (g + 1) * groupSize);
          for (int c = g * groupSize; c < last; c++) {
            out[r * cols + c] = w[r * cols + c] * factor;
          }
        }
      }
    });
  }

  /** Each group's sum in double, in column order, rounded once to float and added. */
  static void scaleGroupsBackward(float[] dOut, float[] out, int rows, int cols, int groupSize,
      float[] dLogScale) {
    int groups = LearnedWeightQuantization.groups(cols, groupSize);
    Parallel.forRange(rows, 16, (start, end) -> {
      for (int r = start; r < end; r++) {
        for (int g = 0; g < groups; g++) {
          double sum = 0;
          int last = Math.min(cols, (g + 1) * groupSize);
          for (int c = g * groupSize; c < last; c++) {
            sum += (double) dOut[r * cols + c] * out[r * cols + c];
          }
          dLogScale[r * groups + g] += (float) sum;
        }
      }
    });
  }

  private static double sumInOrder(double[] parts) {
    double total = 0;
    for (double part : parts) {
      total += part;
    }
    return total;
  }

  private static float[] dataOrNull(dev.calibra.model.backend.Tensor t) {
    return t == null ? null : CpuBackend.data(t);
  }
}
