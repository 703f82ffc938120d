package dev.calibra.jobs.calibrate;

import java.io.Serializable;
import java.util.List;

/**
 * What the end-to-end stage's task did: written to the work directory before its part file,
 * returned to the driver, and read back when a restarted job skips the pass.
 *
 * @param status {@link ShardReport#CALIBRATED} by this job's run, or {@link ShardReport#SKIPPED}:
 *     finished by an earlier run or attempt
 * @param attempt Spark's attempt number of the task that ran it (0 = first attempt)
 * @param executor Spark executor id, host and process id of that task
 * @param backend which backend ran it and why
 * @param window the pass, the schedule's last window: its index, blocks (all), losses and time
 * @param layers relative weight error of every layer of every block after the pass
 * @param loadSeconds reading the shards' parts and the calibration samples
 * @param seconds the whole task
 */
public record EndToEndReport(String status, int attempt, String executor, String host, long pid,
    String backend, ShardReport.WindowResult window, List<ShardReport.LayerError> layers,
    double loadSeconds, double seconds) implements Serializable {

  private static final long serialVersionUID = 1L;

  public EndToEndReport {
    layers = List.copyOf(layers);
  }

  /** The same report, as a job that found the pass already done reports it. */
  public EndToEndReport skipped() {
    return new EndToEndReport(ShardReport.SKIPPED, attempt, executor, host, pid, backend, window,
        layers, loadSeconds, seconds);
  }
}
