package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The learned weight fake-quantization ops against the CPU backend, on random weights with
 * shorter last groups, a collapsed (all-zero) group, per-channel groups and every optional tensor
 * present or absent. The kernels perform the CPU's float and double operations in its order, so
 * the only differences left come from exp, log and pow, which may differ in a double's last bit:
 *
 * <ul>
 *   <li>hard codes must agree except where the CPU's w/s lies within 1e-5 of a rounding boundary
 *       (x.5 for nearest rounding; anchor + R = 0 and the integers for learned rounding); such
 *       mismatches are counted, and at most 1 in 10⁴ may occur; scales to 1e-6 relative, zero
 *       points exactly;
 *   <li>soft weights to 1e-6 relative;
 *   <li>gradients (rounding, clip logits) to 1e-5 relative: group sums add the same float terms in
 *       double, in another order;
 *   <li>the regulariser's sum to 1e-6 relative, and the same double on every GPU run.
 * </ul>
 */
class WeightQuantizationParityTest {

  private static final double BOUNDARY_MARGIN = 1e-5;
  private static final double MISMATCH_SHARE = 1e-4;

  /** One case: shape, grid and which learned tensors it has. */
  private record Case(String name, int rows, int cols, int groupSize, int bits, boolean clipping,
      boolean rounding, float temperature) {}

  private static final List<Case> CASES = List.of(
      new Case("67×300 g32 w4, clip + rounding, T 0.37", 67, 300, 32, 4, true, true, 0.37f),
      new Case("128×512 g128 w4, clip + rounding, T 0.002", 128, 512, 128, 4, true, true, 0.002f),
      new Case("40×300 per-channel w3, clip only", 40, 300, 300, 3, true, false, 1f),
      new Case("33×200 g64 w2, neither (nearest)", 33, 200, 64, 2, false, false, 1f));

  private final CpuBackend cpu = new CpuBackend();
  private CudaBackend gpu;

  @BeforeEach
  void gpu() {
    Gpu.assumeAvailable();
    gpu = Gpu.backend(MatmulPrecision.BF16);
  }

  /** The float inputs of one case, uploaded to either backend. */
  private record Inputs(Case c, float[] weight, float[] min, float[] max, float[] clipLower,
      float[] clipUpper, float[] rounding) {

    static Inputs random(Case c, Random random) {
      int groups = LearnedWeightQuantization.groups(c.cols, c.groupSize);
      float[] w = gaussian(random, c.rows * c.cols, 0.05);
      Arrays.fill(w, 0, Math.min(c.groupSize, c.cols), 0f); // row 0, group 0 collapses to MIN_STEP
      float[] min = new float[c.rows * groups];
      float[] max = new float[c.rows * groups];
      for (int r = 0; r < c.rows; r++) {
        for (int col = 0; col < c.cols; col++) {
          int g = r * groups + col / c.groupSize;
          min[g] = Math.min(min[g], w[r * c.cols + col]);
          max[g] = Math.max(max[g], w[r * c.cols + col]);
        }
      }
      // Clip logits around σ⁻¹(0.9), rounding offsets of either sign.
      float[] lower = c.clipping ? shifted(gaussian(random, min.length, 0.7), 2.2f) : null;
      float[] upper = c.clipping ? shifted(gaussian(random, min.length, 0.7), 2.2f) : null;
      float[] rounding = c.rounding ? gaussian(random, w.length, 1.5) : null;
      return new Inputs(c, w, min, max, lower, upper, rounding);
    }

    private static float[] shifted(float[] values, float by) {
      for (int i = 0; i < values.length; i++) {
        values[i] += by;
      }
      return values;
    }

    int groups() {
      return LearnedWeightQuantization.groups(c.cols, c.groupSize);
    }

    LearnedWeightQuantization on(Backend backend) {
      return new LearnedWeightQuantization(backend.upload(weight, c.rows, c.cols),
          backend.upload(min, c.rows, groups()), backend.upload(max, c.rows, groups()),
          optional(backend, clipLower, groups()), optional(backend, clipUpper, groups()),
          optional(backend, rounding, c.cols), c.temperature, c.bits, c.groupSize);
    }

    private Tensor optional(Backend backend, float[] values, int cols) {
      return values == null ? null : backend.upload(values, c.rows, cols);
    }
  }

  /** ŵ, scales and zero points of one backend. */
  private record Quantized(float[] weights, float[] scales, float[] zeros) {

    static Quantized of(Backend backend, LearnedWeightQuantization q, boolean hard) {
      int rows = q.weight().rows();
      Tensor out = backend.zeros(rows, q.weight().cols());
      Tensor scales = backend.zeros(rows, q.groups());
      Tensor zeros = backend.zeros(rows, q.groups());
      backend.fakeQuantizeWeights(q, hard, out, scales, zeros);
      return new Quantized(backend.download(out), backend.download(scales),
          backend.download(zeros));
    }

    int code(int i, int cols, int groupSize, int groups) {
      int g = (i / cols) * groups + (i % cols) / groupSize;
      return (int) (Math.rint(weights[i] / scales[g]) + zeros[g]);
    }
  }

  @Test
  void hardCodesAgreeButAtRoundingBoundaries() {
    Random random = new Random(11);
    List<String> failures = new ArrayList<>();
    for (Case c : CASES) {
      Inputs inputs = Inputs.random(c, random);
      Quantized expected = Quantized.of(cpu, inputs.on(cpu), true);
      Quantized actual = Quantized.of(gpu, inputs.on(gpu), true);
      Parity.check("fakeQuantizeWeights", c.name + " hard, scales", actual.scales, expected.scales,
          1e-6);
      Parity.check("fakeQuantizeWeights", c.name + " hard, zero points", actual.zeros,
          expected.zeros, 0);
      int mismatches = 0;
      for (int i = 0; i < inputs.weight.length; i++) {
        int cpuCode = expected.code(i, c.cols, c.groupSize, inputs.groups());
        int gpuCode = actual.code(i, c.cols, c.groupSize, inputs.groups());
        if (cpuCode != gpuCode) {
          mismatches++;
          double margin = boundaryMargin(inputs, expected, i);
          if (!(margin <= BOUNDARY_MARGIN)) {
            failures.add(c.name + ": element " + i + " has code " + gpuCode + ", CPU " + cpuCode
                + ", " + margin + " from a rounding boundary");
          }
        }
      }
      double share = (double) mismatches / inputs.weight.length;
      Parity.report("fakeQuantizeWeights", c.name + " hard", "share of codes that differ", share,
          MISMATCH_SHARE);
      if (share > MISMATCH_SHARE) {
        failures.add(c.name + ": " + mismatches + " codes differ");
      }
    }
    Parity.failIfAny(failures);
  }

  /**
   * How far the CPU's element i is from a decision that a last-bit difference could flip, with
   * x = w/s: nearest rounding decides at x.5; learned rounding at anchor(x) + R = 0 and, through
   * floor(x), at the integers.
   */
  private static double boundaryMargin(Inputs inputs, Quantized cpuResult, int i) {
    Case c = inputs.c;
    int g = (i / c.cols) * inputs.groups() + (i % c.cols) / c.groupSize;
    double x = (double) inputs.weight[i] / cpuResult.scales[g];
    double fraction = x - Math.floor(x);
    if (inputs.rounding == null) {
      return Math.abs(fraction - 0.5);
    }
    return Math.min(Math.abs(anchor(x) + inputs.rounding[i]), Math.min(fraction, 1 - fraction));
  }

  /** logit((frac(x) + 0.1)/1.2), as LearnedWeightQuantization defines the anchor. */
  private static double anchor(double x) {
    double p = (x - Math.floor(x) + 0.1) / 1.2;
    return Math.log(p / (1 - p));
  }

  @Test
  void softWeightsAndGradientsMatchTheCpu() {
    Random random = new Random(12);
    for (Case c : CASES) {
      Inputs inputs = Inputs.random(c, random);
      LearnedWeightQuantization onCpu = inputs.on(cpu);
      LearnedWeightQuantization onGpu = inputs.on(gpu);
      Parity.check("fakeQuantizeWeights", c.name + " soft", Quantized.of(gpu, onGpu, false).weights,
          Quantized.of(cpu, onCpu, false).weights, 1e-6);

      float[] dOut = gaussian(random, inputs.weight.length, 1);
      Gradients expected = Gradients.of(cpu, onCpu, dOut);
      Gradients actual = Gradients.of(gpu, onGpu, dOut);
      if (c.rounding) {
        Parity.check("fakeQuantizeWeightsBackward", c.name + " dRounding", actual.rounding,
            expected.rounding, 1e-5);
      }
      if (c.clipping) {
        Parity.check("fakeQuantizeWeightsBackward", c.name + " dClipLower (accumulated twice)",
            actual.clipLower, expected.clipLower, 1e-5);
        Parity.check("fakeQuantizeWeightsBackward", c.name + " dClipUpper (accumulated twice)",
            actual.clipUpper, expected.clipUpper, 1e-5);
      }
    }
  }

  /** The straight-through gradients of one backend, the clip ones accumulated over two calls. */
  private record Gradients(float[] rounding, float[] clipLower, float[] clipUpper) {

    static Gradients of(Backend backend, LearnedWeightQuantization q, float[] dOut) {
      int rows = q.weight().rows();
      Tensor d = backend.upload(dOut, rows, q.weight().cols());
      Tensor dRounding = backend.zeros(rows, q.weight().cols());
      Tensor dLower = backend.zeros(rows, q.groups());
      Tensor dUpper = backend.zeros(rows, q.groups());
      backend.fakeQuantizeWeightsBackward(q, d, dRounding, dLower, dUpper);
      backend.fakeQuantizeWeightsBackward(q, d, dRounding, dLower, dUpper);
      return new Gradients(backend.download(dRounding), backend.download(dLower),
          backend.download(dUpper));
    }
  }

  @Test
  void roundingRegularizerMatchesTheCpuAndRepeatsExactly() {
    Random random = new Random(13);
    for (Case c : CASES) {
      if (!c.rounding) {
        continue;
      }
      Inputs inputs = Inputs.random(c, random);
      float[] start = gaussian(random, inputs.weight.length, 1e-3);
      for (float beta : new float[] {20f, 2f}) {
        String variant = c.name + " β " + beta;
        Tensor cpuGradient = cpu.upload(start, c.rows, c.cols);
        Tensor gpuGradient = gpu.upload(start, c.rows, c.cols);
        LearnedWeightQuantization onGpu = inputs.on(gpu);
        double expected = cpu.roundingRegularizer(inputs.on(cpu), beta, 0.01f, cpuGradient);
        double actual = gpu.roundingRegularizer(onGpu, beta, 0.01f, gpuGradient);
        double error = Math.abs(actual - expected) / Math.abs(expected);
        Parity.report("roundingRegularizer", variant, "sum relative error", error, 1e-6);
        assertTrue(error <= 1e-6, variant + ": " + actual + " vs " + expected);
        Parity.check("roundingRegularizer", variant + " dRounding", gpu.download(gpuGradient),
            cpu.download(cpuGradient), 1e-5);
        assertEquals(actual, gpu.roundingRegularizer(onGpu, beta, 0.01f, gpuGradient),
            variant + ": a second GPU run gives another sum");
      }
    }
  }
}
