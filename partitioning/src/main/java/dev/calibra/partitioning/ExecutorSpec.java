package dev.calibra.partitioning;

import java.io.Serializable;

/**
 * One executor a plan may place shards on.
 *
 * @param name how logs name it, e.g. "gpu-3" or a Spark executor id
 * @param kind GPU or CPU
 * @param memoryBytes memory the calibration may use: GPU memory for a GPU executor, the JVM
 *     heap for a CPU one (the plan reserves a safety margin of it on top)
 * @param flopsPerSecond sustained float32 throughput of a calibration step
 */
public record ExecutorSpec(String name, ExecutorKind kind, long memoryBytes, double flopsPerSecond)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public ExecutorSpec {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("an executor needs a name");
    }
    if (kind == null) {
      throw new IllegalArgumentException("executor " + name + " needs a kind (GPU or CPU)");
    }
    if (memoryBytes <= 0) {
      throw new IllegalArgumentException("executor " + name + " has no memory: " + memoryBytes
          + " bytes");
    }
    if (!(flopsPerSecond > 0) || Double.isInfinite(flopsPerSecond)) {
      throw new IllegalArgumentException("executor " + name
          + " needs a positive, finite throughput, got " + flopsPerSecond + " FLOP/s");
    }
  }

  /** A GPU executor at {@link ExecutorKind#GPU}'s default throughput. */
  public static ExecutorSpec gpu(String name, long memoryBytes) {
    return new ExecutorSpec(name, ExecutorKind.GPU, memoryBytes,
        ExecutorKind.GPU.defaultFlopsPerSecond());
  }

  /** A CPU executor at {@link ExecutorKind#CPU}'s default throughput. */
  public static ExecutorSpec cpu(String name, long memoryBytes) {
    return new ExecutorSpec(name, ExecutorKind.CPU, memoryBytes,
        ExecutorKind.CPU.defaultFlopsPerSecond());
  }

  /**
   * The memory left for calibration after reserving {@code safetyMargin} (a fraction) of it and
   * the share its backend keeps ({@link ExecutorKind#reservedFraction}).
   */
  public long usableBytes(double safetyMargin) {
    return (long) Math.floor(memoryBytes * (1 - safetyMargin - kind.reservedFraction()));
  }
}
