package dev.calibra.kernels.cuda;

import static dev.calibra.kernels.cuda.Parity.gaussian;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * RMSNorm forward and backward against the CPU backend, at a small odd width and at a 7B
 * model's 4096. Both sides sum squares and dot products in double and round once, so the
 * remaining differences are float rounding of the elementwise products: 1e-6 relative forward,
 * 1e-5 for dX (a difference of two terms), 1e-6 for the weight gradient (a column sum).
 */
class RmsNormParityTest {

  @Test
  void forwardAndBackwardMatchTheCpu() {
    Gpu.assumeAvailable();
    CudaBackend gpu = Gpu.backend(MatmulPrecision.BF16);
    CpuBackend cpu = new CpuBackend();
    Random random = new Random(4);
    for (int[] shape : new int[][] {{77, 300}, {64, 4096}}) {
      int rows = shape[0];
      int cols = shape[1];
      String variant = rows + "×" + cols;
      float[] x = gaussian(random, rows * cols, 2);
      float[] weight = gaussian(random, cols, 1);
      float[] dOut = gaussian(random, rows * cols, 1);
      float[] dWeightStart = gaussian(random, cols, 1);

      Tensor cOut = cpu.zeros(rows, cols);
      Tensor cInv = cpu.zeros(rows, 1);
      Tensor gOut = gpu.zeros(rows, cols);
      Tensor gInv = gpu.zeros(rows, 1);
      Tensor cx = cpu.upload(x, rows, cols);
      Tensor gx = gpu.upload(x, rows, cols);
      Tensor cw = cpu.upload(weight, 1, cols);
      Tensor gw = gpu.upload(weight, 1, cols);
      cpu.rmsNorm(cx, cw, 1e-5f, cOut, cInv);
      gpu.rmsNorm(gx, gw, 1e-5f, gOut, gInv);
      Parity.check("rmsNorm", variant + " out", gpu.download(gOut), cpu.download(cOut), 1e-6);
      Parity.check("rmsNorm", variant + " invRms", gpu.download(gInv), cpu.download(cInv), 1e-6);

      Tensor cdx = cpu.zeros(rows, cols);
      Tensor gdx = gpu.zeros(rows, cols);
      Tensor cdw = cpu.upload(dWeightStart, 1, cols);
      Tensor gdw = gpu.upload(dWeightStart, 1, cols);
      cpu.rmsNormBackward(cpu.upload(dOut, rows, cols), cx, cw, cInv, cdx, cdw);
      gpu.rmsNormBackward(gpu.upload(dOut, rows, cols), gx, gw, gInv, gdx, gdw);
      Parity.check("rmsNormBackward", variant + " dX", gpu.download(gdx), cpu.download(cdx), 1e-5);
      Parity.check("rmsNormBackward", variant + " dWeight", gpu.download(gdw), cpu.download(cdw), 1e-6);
    }
  }
}
