package dev.calibra.model.cpu;

import static dev.calibra.model.cpu.FiniteDifferences.check;
import static dev.calibra.model.cpu.FiniteDifferences.gaussian;
import static dev.calibra.model.cpu.FiniteDifferences.weightedSum;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Finite-difference checks of every backward op of the CPU backend. */
class CpuBackendGradientTest {

  private static final double TOLERANCE = 2e-3;
  private final CpuBackend backend = new CpuBackend();
  private final Random random = new Random(42);

  private Tensor tensor(int rows, int cols, double scale) {
    return backend.upload(gaussian(random, rows * cols, scale), rows, cols);
  }

  private static float[] data(Tensor t) {
    return CpuBackend.data(t);
  }

  @Test
  void rmsNormGradientsMatchFiniteDifferences() {
    int rows = 5;
    int cols = 24;
    Tensor x = tensor(rows, cols, 1.0);
    Tensor weight = tensor(1, cols, 1.0);
    float[] r = gaussian(random, rows * cols, 1.0);
    Tensor out = backend.zeros(rows, cols);
    Tensor invRms = backend.zeros(rows, 1);
    Runnable forward = () -> backend.rmsNorm(x, weight, 1e-5f, out, invRms);
    forward.run();
    Tensor dX = backend.zeros(rows, cols);
    Tensor dW = backend.zeros(1, cols);
    backend.rmsNormBackward(backend.upload(r, rows, cols), x, weight, invRms, dX, dW);
    java.util.function.DoubleSupplier loss = () -> {
      forward.run();
      return weightedSum(data(out), r);
    };
    check("rmsNorm dX", data(x), data(dX), loss, 60, TOLERANCE, random);
    check("rmsNorm dWeight", data(weight), data(dW), loss, cols, TOLERANCE, random);
  }

  @Test
  void groupScalingGradientMatchesFiniteDifferences() {
    // 10 columns in groups of 4: the last group is shorter.
    int rows = 3;
    int cols = 10;
    int groupSize = 4;
    Tensor w = tensor(rows, cols, 1.0);
    Tensor logScale = tensor(rows, 3, 0.3);
    float[] r = gaussian(random, rows * cols, 1.0);
    Tensor out = backend.zeros(rows, cols);
    Runnable forward = () -> backend.scaleGroups(w, logScale, groupSize, out);
    forward.run();
    for (int i = 0; i < rows * cols; i++) {
      int group = (i / cols) * 3 + (i % cols) / groupSize;
      float factor = (float) Math.exp(data(logScale)[group]);
      if (data(out)[i] != data(w)[i] * factor) {
        throw new AssertionError("weight " + i + ": " + data(out)[i] + " ≠ w·exp(θ)");
      }
    }
    Tensor dLogScale = tensor(rows, 3, 1.0);
    float[] before = data(dLogScale).clone();
    backend.scaleGroupsBackward(backend.upload(r, rows, cols), out, groupSize, dLogScale);
    float[] gradient = new float[before.length];
    for (int g = 0; g < gradient.length; g++) {
      gradient[g] = data(dLogScale)[g] - before[g];  // the op accumulates
    }
    java.util.function.DoubleSupplier loss = () -> {
      forward.run();
      return weightedSum(data(out), r);
    };
    check("scaleGroups dLogScale", data(logScale), gradient, loss, gradient.length, TOLERANCE,
        random);
  }

  @Test
  void rotaryInverseIsItsBackward() {
    int seqLen = 7;
    int headDim = 6;
    Tensor x = tensor(2 * seqLen, 3 * headDim, 1.0);
    float[] original = data(x).clone();
    Tensor cos = tensor(seqLen, headDim / 2, 1.0);
    Tensor sin = tensor(seqLen, headDim / 2, 1.0);
    float[] angles = gaussian(random, seqLen * headDim / 2, 2.0);
    for (int i = 0; i < angles.length; i++) {
      data(cos)[i] = (float) Math.cos(angles[i]);
      data(sin)[i] = (float) Math.sin(angles[i]);
    }
    float[] r = gaussian(random, original.length, 1.0);
    Tensor dX = backend.upload(r, x.rows(), x.cols());
    backend.rotary(dX, headDim, seqLen, cos, sin, true);
    java.util.function.DoubleSupplier loss = () -> {
      Tensor y = backend.upload(data(x), x.rows(), x.cols());
      backend.rotary(y, headDim, seqLen, cos, sin, false);
      return weightedSum(data(y), r);
    };
    check("rotary dX", data(x), data(dX), loss, 60, TOLERANCE, random);
  }

  @Test
  void groupedQueryAttentionGradientsMatchFiniteDifferences() {
    // 70 positions cross the 64-row attention tile; 4 query heads share 2 key/value heads.
    AttentionShape shape = new AttentionShape(2, 70, 4, 2, 8);
    int tokens = shape.tokens();
    Tensor q = tensor(tokens, 32, 0.7);
    Tensor k = tensor(tokens, 16, 0.7);
    Tensor v = tensor(tokens, 16, 1.0);
    float[] r = gaussian(random, tokens * 32, 1.0);
    Tensor out = backend.zeros(tokens, 32);
    Tensor lse = backend.zeros(tokens, 4);
    Runnable forward = () -> backend.causalAttention(q, k, v, shape, out, lse);
    forward.run();
    Tensor dQ = backend.zeros(tokens, 32);
    Tensor dK = backend.zeros(tokens, 16);
    Tensor dV = backend.zeros(tokens, 16);
    backend.causalAttentionBackward(backend.upload(r, tokens, 32), q, k, v, out, lse, shape, dQ, dK, dV);
    java.util.function.DoubleSupplier loss = () -> {
      forward.run();
      return weightedSum(data(out), r);
    };
    check("attention dQ", data(q), data(dQ), loss, 80, TOLERANCE, random);
    check("attention dK", data(k), data(dK), loss, 80, TOLERANCE, random);
    check("attention dV", data(v), data(dV), loss, 80, TOLERANCE, random);
  }

  @Test
  void swigluGradientsMatchFiniteDifferences() {
    Tensor gate = tensor(6, 20, 2.0);
    Tensor up = tensor(6, 20, 1.0);
    float[] r = gaussian(random, 120, 1.0);
    Tensor dGate = backend.zeros(6, 20);
    Tensor dUp = backend.zeros(6, 20);
    backend.swigluBackward(backend.upload(r, 6, 20), gate, up, dGate, dUp);
    Tensor out = backend.zeros(6, 20);
    java.util.function.DoubleSupplier loss = () -> {
      backend.swiglu(gate, up, out);
      return weightedSum(data(out), r);
    };
    check("swiglu dGate", data(gate), data(dGate), loss, 60, TOLERANCE, random);
    check("swiglu dUp", data(up), data(dUp), loss, 60, TOLERANCE, random);
  }

  @Test
  void matmulAndColumnSumGradientsMatchFiniteDifferences() {
    // y = x·Wᵀ + b: dx = dy·W, dW = dyᵀ·x, db = Σrows dy — the three products a linear layer uses.
    Tensor x = tensor(9, 12, 1.0);
    Tensor w = tensor(7, 12, 1.0);
    Tensor b = tensor(1, 7, 1.0);
    float[] r = gaussian(random, 63, 1.0);
    Tensor dy = backend.upload(r, 9, 7);
    Tensor dx = backend.zeros(9, 12);
    backend.matmul(dy, false, w, false, dx, false);
    Tensor dw = backend.zeros(7, 12);
    backend.matmul(dy, true, x, false, dw, true);
    Tensor db = backend.zeros(1, 7);
    backend.accumulateColumnSums(dy, db);
    Tensor y = backend.zeros(9, 7);
    java.util.function.DoubleSupplier loss = () -> {
      backend.matmul(x, false, w, true, y, false);
      backend.addRowVector(y, b);
      return weightedSum(data(y), r);
    };
    check("linear dx", data(x), data(dx), loss, 40, TOLERANCE, random);
    check("linear dW", data(w), data(dw), loss, 40, TOLERANCE, random);
    check("linear db", data(b), data(db), loss, 7, TOLERANCE, random);
  }
}
