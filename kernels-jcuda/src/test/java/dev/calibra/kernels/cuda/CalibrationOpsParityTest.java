package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The calibration ops besides weight quantization against the CPU backend. The kernels perform
 * the CPU's float operations in its order without fused multiply-adds, so fill, scale, Adam,
 * activation quantization (QDrop masks included) and column maxima are exact (tolerance 0), as
 * are the squared-error gradients. Returned sums add the same double terms in another order:
 * 1e-12 relative for the squared error. The KL divergence's exp and log may differ in a double's
 * last bit: 1e-10 for its sum, 1e-6 for its float gradient. Sums repeat exactly run to run.
 */
class CalibrationOpsParityTest {

  private final CpuBackend cpu = new CpuBackend();
  private final Random random = new Random(21);
  private CudaBackend gpu;

  @BeforeEach
  void gpu() {
    Gpu.assumeAvailable();
    gpu = Gpu.backend(MatmulPrecision.BF16);
  }

  @Test
  void fillAndScaleAreExact() {
    float[] values = gaussian(random, 3000, 1);
    Tensor t = gpu.upload(values, 3, 1000);
    gpu.scale(t, -0.37f);
    Tensor c = cpu.upload(values, 3, 1000);
    cpu.scale(c, -0.37f);
    Parity.check("scale", "3×1000 by −0.37", gpu.download(t), cpu.download(c), 0);
    gpu.fill(t, 2.5f);
    float[] filled = new float[3000];
    Arrays.fill(filled, 2.5f);
    Parity.check("fill", "2.5", gpu.download(t), filled, 0);
    gpu.fill(t, 0f);
    Parity.check("fill", "0 (a lazy clear)", gpu.download(t), new float[3000], 0);
  }

  @Test
  void squaredErrorMatchesAndRepeats() {
    int rows = 300;
    int cols = 1000;
    float[] pred = gaussian(random, rows * cols, 1);
    float[] target = gaussian(random, rows * cols, 1);
    Tensor cpuGradient = cpu.zeros(rows, cols);
    Tensor gpuGradient = gpu.zeros(rows, cols);
    Tensor gpuPred = gpu.upload(pred, rows, cols);
    Tensor gpuTarget = gpu.upload(target, rows, cols);
    double expected = cpu.squaredError(cpu.upload(pred, rows, cols), cpu.upload(target, rows, cols),
        0.125f, cpuGradient);
    double actual = gpu.squaredError(gpuPred, gpuTarget, 0.125f, gpuGradient);
    checkSum("squaredError", "300×1000", actual, expected, 1e-12);
    Parity.check("squaredError", "300×1000 dPred", gpu.download(gpuGradient),
        cpu.download(cpuGradient), 0);
    assertEquals(actual, gpu.squaredError(gpuPred, gpuTarget, 0.125f, gpuGradient),
        "a second GPU run gives another sum");
  }

  @Test
  void softmaxKlDivergenceMatchesAndRepeats() {
    int rows = 64;
    int cols = 4096;
    float[] target = gaussian(random, rows * cols, 2);
    float[] pred = gaussian(random, rows * cols, 2);
    float[] start = gaussian(random, rows * cols, 1e-3);
    for (float temperature : new float[] {1f, 2.5f}) {
      String variant = rows + "×" + cols + " T " + temperature;
      Tensor cpuGradient = cpu.upload(start, rows, cols);
      Tensor gpuGradient = gpu.upload(start, rows, cols);
      Tensor gpuTarget = gpu.upload(target, rows, cols);
      Tensor gpuPred = gpu.upload(pred, rows, cols);
      double expected = cpu.softmaxKlDivergence(cpu.upload(target, rows, cols),
          cpu.upload(pred, rows, cols), temperature, 0.3f, cpuGradient);
      double actual = gpu.softmaxKlDivergence(gpuTarget, gpuPred, temperature, 0.3f, gpuGradient);
      checkSum("softmaxKlDivergence", variant, actual, expected, 1e-10);
      Parity.check("softmaxKlDivergence", variant + " dPred (accumulated)",
          gpu.download(gpuGradient), cpu.download(cpuGradient), 1e-6);
      assertEquals(actual, gpu.softmaxKlDivergence(gpuTarget, gpuPred, temperature, 0.3f,
          gpuGradient), variant + ": a second GPU run gives another sum");
    }
  }

  @Test
  void adamStepsAreExact() {
    int n = 5000;
    float[] param = gaussian(random, n, 1);
    Tensor[] onCpu = {cpu.upload(param, 1, n), cpu.zeros(1, n), cpu.zeros(1, n)};
    Tensor[] onGpu = {gpu.upload(param, 1, n), gpu.zeros(1, n), gpu.zeros(1, n)};
    for (int step = 1; step <= 3; step++) {
      float[] grad = gaussian(random, n, 0.1);
      AdamStep adam = new AdamStep(5e-3f * step, 0.9f, 0.999f, 1e-8f, step);
      cpu.adamUpdate(onCpu[0], cpu.upload(grad, 1, n), onCpu[1], onCpu[2], adam);
      gpu.adamUpdate(onGpu[0], gpu.upload(grad, 1, n), onGpu[1], onGpu[2], adam);
    }
    String[] names = {"param", "m", "v"};
    for (int i = 0; i < 3; i++) {
      Parity.check("adamUpdate", "3 steps, " + names[i], gpu.download(onGpu[i]),
          cpu.download(onCpu[i]), 0);
    }
  }

  @Test
  void activationQuantizationAndQDropMasksAreExact() {
    int rows = 97;
    int cols = 1030;
    float[] x = gaussian(random, rows * cols, 3);
    Arrays.fill(x, 5 * cols, 6 * cols, 0f); // an all-zero row is passed through
    for (int bits : new int[] {8, 4}) {
      for (float drop : new float[] {0f, 0.5f}) {
        String variant = rows + "×" + cols + " " + bits + " bits, QDrop " + drop;
        long seed = 0x5EEDL * bits + (long) (drop * 10);
        Tensor cpuOut = cpu.zeros(rows, cols);
        Tensor gpuOut = gpu.zeros(rows, cols);
        cpu.fakeQuantizeActivations(cpu.upload(x, rows, cols), bits, drop, seed, cpuOut);
        gpu.fakeQuantizeActivations(gpu.upload(x, rows, cols), bits, drop, seed, gpuOut);
        float[] expected = cpu.download(cpuOut);
        float[] actual = gpu.download(gpuOut);
        Parity.check("fakeQuantizeActivations", variant, actual, expected, 0);
        Parity.report("fakeQuantizeActivations", variant, "entries kept float, CPU − GPU",
            keptFloat(x, expected) - keptFloat(x, actual), 0);
        if (drop > 0) {
          long kept = keptFloat(x, actual);
          assertTrue(Math.abs(kept - drop * x.length) < 0.05 * x.length,
              variant + ": " + kept + " of " + x.length + " kept float");
        }

        Tensor inPlace = gpu.upload(x, rows, cols);
        gpu.fakeQuantizeActivations(inPlace, bits, drop, seed, inPlace);
        Parity.check("fakeQuantizeActivations", variant + " in place", gpu.download(inPlace),
            expected, 0);
      }
    }
  }

  /** Entries whose output is their float input: the QDrop mask, and entries already on the grid. */
  private static long keptFloat(float[] x, float[] out) {
    long kept = 0;
    for (int i = 0; i < x.length; i++) {
      if (out[i] == x[i]) {
        kept++;
      }
    }
    return kept;
  }

  @Test
  void columnAbsMaxIsExact() {
    for (int[] shape : new int[][] {{5, 37}, {3000, 300}}) {
      int rows = shape[0];
      int cols = shape[1];
      float[] x = gaussian(random, rows * cols, 1);
      float[] running = new float[cols];
      for (int c = 0; c < cols; c += 3) {
        running[c] = 10f; // larger than any |x|: must stay
      }
      Tensor cpuMax = cpu.upload(running, 1, cols);
      Tensor gpuMax = gpu.upload(running, 1, cols);
      cpu.columnAbsMax(cpu.upload(x, rows, cols), cpuMax);
      gpu.columnAbsMax(gpu.upload(x, rows, cols), gpuMax);
      Parity.check("columnAbsMax", rows + "×" + cols, gpu.download(gpuMax), cpu.download(cpuMax),
          0);
    }
  }

  @Test
  void groupScalingIsExactAndItsGradientMatches() {
    // g128 on LLaMA-like rows, and groups of 32 with a shorter last one (172 columns).
    for (int[] shape : new int[][] {{64, 172, 32}, {512, 1024, 128}}) {
      int rows = shape[0];
      int cols = shape[1];
      int groupSize = shape[2];
      int groups = (cols + groupSize - 1) / groupSize;
      String variant = rows + "×" + cols + " g" + groupSize;
      float[] w = gaussian(random, rows * cols, 0.05);
      float[] logScale = gaussian(random, rows * groups, 0.1);
      float[] dOut = gaussian(random, rows * cols, 1);
      float[] start = gaussian(random, rows * groups, 1);
      Tensor cpuOut = cpu.zeros(rows, cols);
      Tensor gpuOut = gpu.zeros(rows, cols);
      cpu.scaleGroups(cpu.upload(w, rows, cols), cpu.upload(logScale, rows, groups), groupSize,
          cpuOut);
      gpu.scaleGroups(gpu.upload(w, rows, cols), gpu.upload(logScale, rows, groups), groupSize,
          gpuOut);
      Parity.check("scaleGroups", variant, gpu.download(gpuOut), cpu.download(cpuOut), 0);
      Tensor cpuGradient = cpu.upload(start, rows, groups);
      Tensor gpuGradient = gpu.upload(start, rows, groups);
      cpu.scaleGroupsBackward(cpu.upload(dOut, rows, cols), cpuOut, groupSize, cpuGradient);
      gpu.scaleGroupsBackward(gpu.upload(dOut, rows, cols), gpuOut, groupSize, gpuGradient);
      // Each group's double sum in another order, rounded once to float.
      Parity.check("scaleGroupsBackward", variant, gpu.download(gpuGradient),
          cpu.download(cpuGradient), 1e-6);
    }
  }

  private static void checkSum(String op, String variant, double actual, double expected,
      double tolerance) {
    double error = Math.abs(actual - expected) / Math.abs(expected);
    Parity.report(op, variant, "sum relative error", error, tolerance);
    assertTrue(error <= tolerance, op + " " + variant + ": " + actual + " vs " + expected);
  }
}
