package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.calibra.model.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Cross-entropy rows against the CPU backend: both sum the exponentials in double, so they
 * agree to double rounding; 1e-9 relative.
 */
class CrossEntropyParityTest {

  @Test
  void matchesTheCpuAndChecksTargets() {
    Gpu.assumeAvailable();
    CudaBackend gpu = Gpu.backend(MatmulPrecision.BF16);
    CpuBackend cpu = new CpuBackend();
    Random random = new Random(5);
    int rows = 70;
    int vocab = 32000;
    float[] logits = gaussian(random, rows * vocab, 3);
    int[] targets = random.ints(rows, 0, vocab).toArray();
    double[] expected = cpu.crossEntropy(cpu.upload(logits, rows, vocab), targets);
    double[] actual = gpu.crossEntropy(gpu.upload(logits, rows, vocab), targets);
    float[] e = new float[rows];
    float[] a = new float[rows];
    double worst = 0;
    for (int r = 0; r < rows; r++) {
      worst = Math.max(worst, Math.abs(actual[r] - expected[r]) / Math.abs(expected[r]));
      e[r] = (float) expected[r];
      a[r] = (float) actual[r];
    }
    Parity.report("crossEntropy", rows + "×" + vocab, "max relative error", worst, 1e-9);
    Parity.check("crossEntropy", rows + "×" + vocab + " (as float)", a, e, 1e-7);
    if (!(worst <= 1e-9)) {
      throw new AssertionError("crossEntropy differs by " + worst + " relative");
    }
    assertThrows(IllegalArgumentException.class,
        () -> gpu.crossEntropy(gpu.upload(new float[4], 1, 4), new int[] {4}));
  }
}
