package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The ops that write a products' bf16 operand beside their fp32 output (RMSNorm, SwiGLU and its
 * backward, rotary, attention's output and dV, weight fake-quantization soft and hard) hand the
 * products exactly what packing the output would: a product of the output equals, bit for bit,
 * the same product of a fresh upload of the output's values, untransposed (the copy read as is,
 * no packing launched) and transposed (the transposing pack reading the copy). Attention reading
 * rotary's copies as its heads equals attention on fresh uploads too. Token counts are not
 * multiples of the 64-row tiles, so the padded edges count.
 */
class ProducedCopiesTest {

  private static final int SEQ_LEN = 100;
  private static final int TOKENS = 2 * SEQ_LEN;
  private static final int HEAD_DIM = 64;
  private static final int HEADS = 2;
  private static final int WIDTH = HEADS * HEAD_DIM;
  private static final int GROUP_SIZE = 32;
  private static final int GROUPS = WIDTH / GROUP_SIZE;
  private static final AttentionShape SHAPE = new AttentionShape(2, SEQ_LEN, HEADS, HEADS, HEAD_DIM);

  private final Random random = new Random(11);
  private final List<String> failures = new ArrayList<>();
  private CudaBackend gpu;

  @Test
  void productsOfProducedOutputsEqualProductsOfFreshCopies() {
    Gpu.assumeAvailable();
    gpu = Gpu.backend(MatmulPrecision.BF16);

    Tensor x = upload(TOKENS, WIDTH);
    Tensor normed = gpu.zeros(TOKENS, WIDTH);
    gpu.rmsNorm(x, upload(1, WIDTH), 1e-5f, normed, gpu.zeros(TOKENS, 1));
    checkProducts("rmsNorm", normed);

    Tensor gate = upload(TOKENS, WIDTH);
    Tensor up = upload(TOKENS, WIDTH);
    Tensor hidden = gpu.zeros(TOKENS, WIDTH);
    gpu.swiglu(gate, up, hidden);
    checkProducts("swiglu", hidden);

    Tensor dGate = gpu.zeros(TOKENS, WIDTH);
    Tensor dUp = gpu.zeros(TOKENS, WIDTH);
    gpu.swigluBackward(upload(TOKENS, WIDTH), gate, up, dGate, dUp);
    checkProducts("swigluBackward dGate", dGate);
    checkProducts("swigluBackward dUp", dUp);

    Tensor cos = upload(SEQ_LEN, HEAD_DIM / 2);
    Tensor sin = upload(SEQ_LEN, HEAD_DIM / 2);
    checkProducts("rotary", rotated(cos, sin));

    Tensor q = rotated(cos, sin);
    Tensor k = rotated(cos, sin);
    Tensor v = upload(TOKENS, WIDTH);
    Tensor out = gpu.zeros(TOKENS, WIDTH);
    Tensor lse = gpu.zeros(TOKENS, HEADS);
    gpu.profileKernels(true);
    gpu.causalAttention(q, k, v, SHAPE, out, lse);
    requireLaunches("attention on rotary's copies", "pack_heads_bf16", 1);  // v only
    checkProducts("attention out", out);
    Tensor freshOut = gpu.zeros(TOKENS, WIDTH);
    gpu.causalAttention(fresh(q), fresh(k), v, SHAPE, freshOut, gpu.zeros(TOKENS, HEADS));
    compare("attention on rotary's copies", gpu.download(out), gpu.download(freshOut));

    Tensor dq = gpu.zeros(TOKENS, WIDTH);
    Tensor dk = gpu.zeros(TOKENS, WIDTH);
    Tensor dv = gpu.zeros(TOKENS, WIDTH);
    gpu.causalAttentionBackward(upload(TOKENS, WIDTH), q, k, v, out, lse, SHAPE, dq, dk, dv);
    checkProducts("attentionBackward dV", dv);

    LearnedWeightQuantization quantization = learnedQuantization();
    Tensor soft = gpu.zeros(TOKENS, WIDTH);
    gpu.fakeQuantizeWeights(quantization, false, soft, null, null);
    checkProducts("fakeQuantizeWeights soft", soft);
    Tensor hard = gpu.zeros(TOKENS, WIDTH);
    gpu.fakeQuantizeWeights(quantization, true, hard, gpu.zeros(TOKENS, GROUPS),
        gpu.zeros(TOKENS, GROUPS));
    checkProducts("fakeQuantizeWeights hard", hard);

    Parity.failIfAny(failures);
  }

  /** 4-bit groups of 32 with learned clipping and rounding, the form calibration trains. */
  private LearnedWeightQuantization learnedQuantization() {
    Tensor weight = upload(TOKENS, WIDTH);
    float[] min = new float[TOKENS * GROUPS];
    float[] max = new float[TOKENS * GROUPS];
    Arrays.fill(min, -2.5f);
    Arrays.fill(max, 2.5f);
    return new LearnedWeightQuantization(weight, gpu.upload(min, TOKENS, GROUPS),
        gpu.upload(max, TOKENS, GROUPS), upload(TOKENS, GROUPS), upload(TOKENS, GROUPS),
        upload(TOKENS, WIDTH), 0.5f, 4, GROUP_SIZE);
  }

  private Tensor rotated(Tensor cos, Tensor sin) {
    Tensor t = upload(TOKENS, WIDTH);
    gpu.rotary(t, HEAD_DIM, SEQ_LEN, cos, sin, false);
    return t;
  }

  /**
   * t · Y and tᵀ · Z against the same products of a fresh upload of t's values. Y and Z are
   * right operands without transpose, so they take the transposing pack from fp32: whatever
   * launches pack_bf16_rows or pack_bf16_transposed_from_bf16 packs t.
   */
  private void checkProducts(String op, Tensor t) {
    Tensor y = upload(t.cols(), 96);
    Tensor z = upload(t.rows(), 80);
    gpu.profileKernels(true);
    float[] product = product(c -> gpu.matmul(t, false, y, false, c, false), t.rows(), 96);
    requireLaunches(op + " · Y", "pack_bf16_rows", 0);
    float[] transposed = product(c -> gpu.matmul(t, true, z, false, c, false), t.cols(), 80);
    requireLaunches(op + "ᵀ · Z", "pack_bf16_transposed_from_bf16", 1);
    gpu.profileKernels(false);
    Tensor f = fresh(t);
    compare(op + " · Y", product,
        product(c -> gpu.matmul(f, false, y, false, c, false), t.rows(), 96));
    compare(op + "ᵀ · Z", transposed,
        product(c -> gpu.matmul(f, true, z, false, c, false), t.cols(), 80));
  }

  /** Launches of {@code kernel} since profiling started or was last collected. */
  private void requireLaunches(String what, String kernel, long expected) {
    long launches = gpu.kernelProfile().stream().filter(k -> k.kernel().equals(kernel))
        .mapToLong(CudaBackend.KernelTime::launches).sum();
    if (launches != expected) {
      failures.add(what + ": " + launches + " launches of " + kernel + ", expected " + expected);
    }
  }

  private float[] product(Consumer<Tensor> multiply, int rows, int cols) {
    Tensor c = gpu.zeros(rows, cols);
    multiply.accept(c);
    return gpu.download(c);
  }

  private void compare(String what, float[] actual, float[] expected) {
    double difference = Parity.relativeError(actual, expected);
    Parity.report("produced bf16 copy", what, "relative difference", difference, 0);
    if (!Arrays.equals(actual, expected)) {
      failures.add(what + ": differs from the fresh copy's result, relative difference "
          + difference);
    }
  }

  private Tensor fresh(Tensor t) {
    return gpu.upload(gpu.download(t), t.rows(), t.cols());
  }

  private Tensor upload(int rows, int cols) {
    return gpu.upload(gaussian(random, rows * cols, 1), rows, cols);
  }
}
