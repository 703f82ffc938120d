package dev.calibra.bench.cuda;

import dev.calibra.kernels.cuda.CudaBackend;
import java.util.Arrays;

/**
 * Median time per call of GPU work: each round issues several calls back to back and waits for
 * the GPU once, so host-side launch costs overlap the GPU's work as they do in real use.
 */
public final class GpuTimer {

  private GpuTimer() {}

  public static double medianSeconds(CudaBackend gpu, Runnable body, int warmup, int rounds,
      int callsPerRound) {
    for (int i = 0; i < warmup; i++) {
      body.run();
    }
    gpu.synchronize();
    double[] seconds = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long start = System.nanoTime();
      for (int c = 0; c < callsPerRound; c++) {
        body.run();
      }
      gpu.synchronize();
      seconds[r] = (System.nanoTime() - start) / 1e9 / callsPerRound;
    }
    Arrays.sort(seconds);
    return seconds[rounds / 2];
  }
}
