package dev.calibra.partitioning;

/**
 * The kind of backend an executor calibrates on, with the throughput assumed when the caller
 * does not measure one. The defaults are deliberately modest sustained rates of Calibra's own
 * float32 kernels over a whole calibration step, not peak figures: measure yours (for the CPU,
 * {@code bench/run cpu-gemm}) and pass it to {@link ExecutorSpec}.
 */
public enum ExecutorKind {
  /**
   * 25 TFLOP/s: about 40% of an H100's 67 TFLOP/s float32 (non-tensor-core) peak, what
   * hand-written float32 kernels sustain across GEMMs and the memory-bound ops between them.
   */
  GPU(25e12),
  /**
   * 0.2 TFLOP/s: a 16-core AVX2/AVX-512 server running the pure-Java SIMD GEMM at roughly half
   * its peak (the 2-core bench machine measures 58 GFLOP/s on large GEMMs).
   */
  CPU(0.2e12);

  private final double defaultFlopsPerSecond;

  ExecutorKind(double defaultFlopsPerSecond) {
    this.defaultFlopsPerSecond = defaultFlopsPerSecond;
  }

  public double defaultFlopsPerSecond() {
    return defaultFlopsPerSecond;
  }
}
