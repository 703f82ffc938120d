package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Causal attention forward and backward against the CPU backend, for head widths that exercise
 * each tensor-core instantiation (8 → 16, 48 → 64, 64, 128, and 256 which takes the fp32 kernels
 * in both precisions), grouped-query heads, and sequence lengths that are not multiples of the
 * 64-row tiles.
 *
 * <p>Tolerances (relative error over the tensor). bf16: q, k, v and the probabilities are rounded
 * to 8 significant bits (≤ 2^-8 relative each) before their products, which leaves errors of a
 * few 1e-3: 1e-2 for out and the log-sum-exp; gradients pass through differences (dP − rowDot)
 * that cancel, 2e-2. fp32: only summation order differs, 1e-5 forward and 1e-4 for gradients.
 *
 * <p>With one token per sequence the softmax is constant, so dQ and dK are exactly 0 and a
 * relative error means nothing: there they must be small next to dV (the same tolerance, against
 * ‖dV‖).
 */
class AttentionParityTest {

  private static final List<AttentionShape> SHAPES = List.of(
      new AttentionShape(2, 100, 4, 2, 8),
      new AttentionShape(1, 130, 6, 2, 48),
      new AttentionShape(2, 64, 4, 1, 64),
      new AttentionShape(1, 257, 4, 4, 128),
      new AttentionShape(2, 300, 8, 2, 128),
      new AttentionShape(3, 1, 2, 1, 64),
      new AttentionShape(1, 70, 2, 1, 256));

  @Test
  void forwardAndBackwardMatchTheCpu() {
    Gpu.assumeAvailable();
    List<String> failures = new ArrayList<>();
    Random random = new Random(6);
    for (MatmulPrecision precision : MatmulPrecision.values()) {
      CudaBackend gpu = Gpu.backend(precision);
      boolean bf16 = precision == MatmulPrecision.BF16;
      for (AttentionShape shape : SHAPES) {
        try {
          compare(gpu, shape, random, bf16 ? 1e-2 : 1e-5, bf16 ? 2e-2 : 1e-4);
        } catch (AssertionError | RuntimeException e) {
          failures.add(e.getMessage());
        }
      }
    }
    Parity.failIfAny(failures);
  }

  private static void compare(CudaBackend gpu, AttentionShape shape, Random random,
      double forwardTolerance, double gradientTolerance) {
    int tokens = shape.tokens();
    int qWidth = shape.numHeads() * shape.headDim();
    int kvWidth = shape.numKeyValueHeads() * shape.headDim();
    float[] q = gaussian(random, tokens * qWidth, 1);
    float[] k = gaussian(random, tokens * kvWidth, 1);
    float[] v = gaussian(random, tokens * kvWidth, 1);
    float[] dOut = gaussian(random, tokens * qWidth, 1);
    Result expected = run(new CpuBackend(), shape, q, k, v, dOut);
    Result actual = run(gpu, shape, q, k, v, dOut);
    String variant = gpu.precision().label() + " " + shape.batch() + "×" + shape.seqLen() + " heads "
        + shape.numHeads() + "/" + shape.numKeyValueHeads() + " d" + shape.headDim();
    Parity.check("attention", variant + " out", actual.out, expected.out, forwardTolerance);
    Parity.check("attention", variant + " logSumExp", actual.logSumExp, expected.logSumExp,
        forwardTolerance);
    if (shape.seqLen() == 1) {
      requireVanishing(variant + " dQ", actual.dq, expected.dv, gradientTolerance);
      requireVanishing(variant + " dK", actual.dk, expected.dv, gradientTolerance);
    } else {
      Parity.check("attentionBackward", variant + " dQ", actual.dq, expected.dq, gradientTolerance);
      Parity.check("attentionBackward", variant + " dK", actual.dk, expected.dk, gradientTolerance);
    }
    Parity.check("attentionBackward", variant + " dV", actual.dv, expected.dv, gradientTolerance);
  }

  private record Result(float[] out, float[] logSumExp, float[] dq, float[] dk, float[] dv) {}

  private static Result run(Backend backend, AttentionShape shape, float[] q, float[] k, float[] v,
      float[] dOut) {
    int tokens = shape.tokens();
    int qWidth = shape.numHeads() * shape.headDim();
    int kvWidth = shape.numKeyValueHeads() * shape.headDim();
    Tensor tq = backend.upload(q, tokens, qWidth);
    Tensor tk = backend.upload(k, tokens, kvWidth);
    Tensor tv = backend.upload(v, tokens, kvWidth);
    Tensor out = backend.zeros(tokens, qWidth);
    Tensor lse = backend.zeros(tokens, shape.numHeads());
    backend.causalAttention(tq, tk, tv, shape, out, lse);
    // Gradients are written in full: start them from garbage to prove it.
    Tensor dq = backend.upload(filled(tokens * qWidth), tokens, qWidth);
    Tensor dk = backend.upload(filled(tokens * kvWidth), tokens, kvWidth);
    Tensor dv = backend.upload(filled(tokens * kvWidth), tokens, kvWidth);
    backend.causalAttentionBackward(backend.upload(dOut, tokens, qWidth), tq, tk, tv, out, lse,
        shape, dq, dk, dv);
    return new Result(backend.download(out), backend.download(lse), backend.download(dq),
        backend.download(dk), backend.download(dv));
  }

  private static void requireVanishing(String what, float[] actual, float[] scale, double tolerance) {
    double ratio = norm(actual) / norm(scale);
    Parity.report("attentionBackward", what + " (exactly 0)", "‖x‖/‖dV‖", ratio, tolerance);
    if (!(ratio <= tolerance)) {
      throw new AssertionError(what + " should vanish, ‖x‖/‖dV‖ = " + ratio);
    }
  }

  private static double norm(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum);
  }

  private static float[] filled(int count) {
    float[] values = new float[count];
    java.util.Arrays.fill(values, 1e3f);
    return values;
  }
}
