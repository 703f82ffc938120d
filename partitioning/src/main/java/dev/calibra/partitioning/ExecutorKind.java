package dev.calibra.partitioning;

/**
 * The kind of backend an executor calibrates on, with the throughput assumed when the caller
 * does not measure one and the share of its memory the backend keeps for itself. The defaults are deliberately modest sustained rates of Calibra's own
 * float32 kernels over a whole calibration step, not peak figures: measure yours (for the CPU,
 * {@code bench/run cpu-gemm}) and pass it to {@link ExecutorSpec}.
 */
public enum ExecutorKind {
  /**
   * 25 TFLOP/s: about 40% of an H100's 67 TFLOP/s float32 (non-tensor-core) peak, what
   * hand-written float32 kernels sustain across GEMMs and the memory-bound ops between them.
   */
  GPU(25e12, 1.0 / 16),
  /**
   * 0.2 TFLOP/s: a 16-core AVX2/AVX-512 server running the pure-Java SIMD GEMM at roughly half
   * its peak (the 2-core bench machine measures 58 GFLOP/s on large GEMMs).
   */
  CPU(0.2e12, 0);

  private final double defaultFlopsPerSecond;
  private final double reservedFraction;

  ExecutorKind(double defaultFlopsPerSecond, double reservedFraction) {
    this.defaultFlopsPerSecond = defaultFlopsPerSecond;
    this.reservedFraction = reservedFraction;
  }

  public double defaultFlopsPerSecond() {
    return defaultFlopsPerSecond;
  }

  /**
   * The share of an executor's memory its backend keeps beyond what {@link MemoryModel} counts:
   * on a GPU the CUDA backend's pack cache, bf16 copies of operands kept for the next products,
   * up to a sixteenth of the device (kernels-jcuda's {@code PackCache}); nothing on a CPU.
   */
  public double reservedFraction() {
    return reservedFraction;
  }
}
