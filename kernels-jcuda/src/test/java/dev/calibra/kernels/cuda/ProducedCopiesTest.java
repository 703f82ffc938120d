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
 * rotary's copies as its heads equals attention on fresh uploads too. A fake-quantized weight
 * also comes with the transposed copy that dY·ŵ reads: its forward and backward products launch
 * no packing of it on either bf16 kernel, and equal those of a fresh upload. Token counts and
 * weight rows are not multiples of the 64-row tiles, so the padded edges count.
 */
class ProducedCopiesTest {

  private static final int SEQ_LEN = 100;
  private static final int TOKENS = 2 * SEQ_LEN;
  private static final int HEAD_DIM = 64;
  private static final int HEADS = 2;
  private static final int WIDTH = HEADS * HEAD_DIM;
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

    Parity.failIfAny(failures);
  }

  @Test
  void fakeQuantizedWeightsNeedNoPacking() {
    Gpu.assumeAvailable();
    gpu = Gpu.backend(MatmulPrecision.BF16);
    // 200 rows: the transposed copy's padding; 192 columns: a part-filled column tile.
    for (int[] shape : new int[][] {{200, 128, 32}, {130, 192, 64}}) {
      LearnedWeightQuantization quantization = learnedQuantization(shape[0], shape[1], shape[2]);
      String size = shape[0] + "×" + shape[1] + " g" + shape[2];
      Tensor soft = gpu.zeros(shape[0], shape[1]);
      gpu.fakeQuantizeWeights(quantization, false, soft, null, null);
      checkWeightProducts("fakeQuantizeWeights soft " + size, soft);
      Tensor hard = gpu.zeros(shape[0], shape[1]);
      Tensor scales = gpu.zeros(shape[0], quantization.groups());
      gpu.fakeQuantizeWeights(quantization, true, hard, scales, gpu.zeros(scales.rows(),
          scales.cols()));
      checkWeightProducts("fakeQuantizeWeights hard " + size, hard);
    }
    Parity.failIfAny(failures);
  }

  /** 4-bit groups with learned clipping and rounding, the form calibration trains. */
  private LearnedWeightQuantization learnedQuantization(int rows, int cols, int groupSize) {
    int groups = LearnedWeightQuantization.groups(cols, groupSize);
    float[] min = new float[rows * groups];
    float[] max = new float[rows * groups];
    Arrays.fill(min, -2.5f);
    Arrays.fill(max, 2.5f);
    return new LearnedWeightQuantization(upload(rows, cols), gpu.upload(min, rows, groups),
        gpu.upload(max, rows, groups), upload(rows, groups), upload(rows, groups),
        upload(rows, cols), 0.5f, 4, groupSize);
  }

  /**
   * The products a weight ŵ takes part in, as a decoder block runs them: X·ŵᵀ in the forward pass
   * (X written by RMSNorm, with its copy: nothing to pack) and dY·ŵ in the backward pass (dY
   * uploaded: only dY is packed), on each bf16 kernel; then the same products of a fresh upload
   * of ŵ's values.
   */
  private void checkWeightProducts(String op, Tensor w) {
    Tensor x = gpu.zeros(TOKENS, w.cols());
    gpu.rmsNorm(upload(TOKENS, w.cols()), upload(1, w.cols()), 1e-5f, x, gpu.zeros(TOKENS, 1));
    Matmul matmul = gpu.matmulKernels();
    List<Matmul.Kernel> kernels = gpu.device().isHopper()
        ? List.of(Matmul.Kernel.MMA, Matmul.Kernel.WGMMA) : List.of(Matmul.Kernel.MMA);
    for (Matmul.Kernel kernel : kernels) {
      String on = " on " + kernel.label;
      Tensor dY = upload(TOKENS, w.rows());  // a new one per kernel: each packs it once
      gpu.profileKernels(true);
      float[] forward = product(c -> matmul.multiply(kernel, cuda(x), false, cuda(w), true,
          cuda(c), false), TOKENS, w.rows());
      requirePacking(op + ": X·ŵᵀ" + on, 0, 0);
      float[] backward = product(c -> matmul.multiply(kernel, cuda(dY), false, cuda(w), false,
          cuda(c), false), TOKENS, w.cols());
      requirePacking(op + ": dY·ŵ" + on, 1, 0);
      gpu.profileKernels(false);
      Tensor f = fresh(w);
      compare(op + ": X·ŵᵀ" + on, forward, product(c -> matmul.multiply(kernel, cuda(x), false,
          cuda(f), true, cuda(c), false), TOKENS, w.rows()));
      compare(op + ": dY·ŵ" + on, backward, product(c -> matmul.multiply(kernel, cuda(dY), false,
          cuda(f), false, cuda(c), false), TOKENS, w.cols()));
    }
  }

  /**
   * Launches, since profiling started or was last collected, of the untransposing pack and of
   * the transposing packs (from fp32 and from bf16 together).
   */
  private void requirePacking(String what, long rows, long transposed) {
    List<CudaBackend.KernelTime> profile = gpu.kernelProfile();
    require(what, "pack_bf16_rows", launches(profile, "pack_bf16_rows"), rows);
    require(what, "pack_bf16_transposed(_from_bf16)", launches(profile, "pack_bf16_transposed")
        + launches(profile, "pack_bf16_transposed_from_bf16"), transposed);
  }

  private static CudaTensor cuda(Tensor t) {
    return (CudaTensor) t;
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
    require(what, kernel, launches(gpu.kernelProfile(), kernel), expected);
  }

  private static long launches(List<CudaBackend.KernelTime> profile, String kernel) {
    return profile.stream().filter(k -> k.kernel().equals(kernel))
        .mapToLong(CudaBackend.KernelTime::launches).sum();
  }

  private void require(String what, String kernel, long launches, long expected) {
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
