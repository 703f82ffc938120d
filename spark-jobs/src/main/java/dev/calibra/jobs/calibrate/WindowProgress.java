package dev.calibra.jobs.calibrate;

/**
 * A progress event a shard's task leaves in the work directory after each window, for the
 * driver to log while the stage runs (and for tests to find the process running a shard); the
 * end-to-end pass leaves one too, for its one window.
 *
 * @param shard the shard's index, or {@link #END_TO_END} for the end-to-end pass
 * @param position 1 for the shard's first window (its warm-up, if any), …
 * @param windows windows the shard calibrates, warm-up included
 * @param pid the process running the task: the executor JVM
 */
public record WindowProgress(int shard, int window, int firstBlock, int lastBlock,
    boolean warmUp, int position, int windows, double lossStart, double lossEnd, double seconds,
    String executor, String host, long pid, int attempt) {

  /** The shard of the end-to-end pass's event, which runs after every shard. */
  public static final int END_TO_END = -1;

  public boolean endToEnd() {
    return shard == END_TO_END;
  }
}
