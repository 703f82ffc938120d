package dev.calibra.jobs.calibrate;

import java.io.Serializable;
import java.util.List;

/**
 * What one shard's task did: written to the work directory before its part file, returned to
 * the driver, and read back when a restarted job skips the shard.
 *
 * @param status "calibrated" by this job's run, or "skipped": finished by an earlier run or attempt
 * @param attempt Spark's attempt number of the task that calibrated it (0 = first attempt)
 * @param executor Spark executor id, host and process id of that task
 * @param backend which backend ran it and why
 * @param windows each window it calibrated, its warm-up first
 * @param layers relative weight error of every layer of the blocks it owns
 * @param loadSeconds loading the shard's weights
 * @param waitSeconds sequential schedule: waiting for the previous shard's hand-off
 * @param seconds the whole task
 */
public record ShardReport(int shard, String status, int attempt, String executor, String host,
    long pid, String backend, List<WindowResult> windows, List<LayerError> layers,
    double loadSeconds, double waitSeconds, double seconds) implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final String CALIBRATED = "calibrated";
  public static final String SKIPPED = "skipped";

  public ShardReport {
    windows = List.copyOf(windows);
    layers = List.copyOf(layers);
  }

  /** The same report, as a job that found the shard already done reports it. */
  public ShardReport skipped() {
    return new ShardReport(shard, SKIPPED, attempt, executor, host, pid, backend, windows, layers,
        loadSeconds, waitSeconds, seconds);
  }

  /** One calibrated window: its place in the model, its losses and its time. */
  public record WindowResult(int index, int firstBlock, int lastBlock, boolean warmUp,
      double lossStart, double lossEnd, double seconds) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** ‖W − Ŵ‖² / ‖W‖² of one linear layer of one block. */
  public record LayerError(int block, String layer, double relativeError) implements Serializable {
    private static final long serialVersionUID = 1L;
  }
}
