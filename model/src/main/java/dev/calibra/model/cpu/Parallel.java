package dev.calibra.model.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Runs index ranges on a dedicated fork-join pool shared by all CPU kernels of this JVM.
 *
 * <p>The pool size defaults to the number of available processors and can be lowered with the
 * system property {@code calibra.cpu.threads}, which matters when several Spark tasks share one
 * executor JVM and each must not claim every core.
 */
public final class Parallel {

  /** A body that handles the half-open index range [start, end). */
  @FunctionalInterface
  public interface RangeBody {
    void run(int start, int end);
  }

  private static final int THREADS = Integer.getInteger(
      "calibra.cpu.threads", Runtime.getRuntime().availableProcessors());
  private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS));

  private Parallel() {}

  /** Number of worker threads the CPU kernels use. */
  public static int threads() {
    return POOL.getParallelism();
  }

  /**
   * Splits [0, count) into chunks of at least {@code grain} indices and runs them in parallel;
   * runs inline when there is only one chunk or when already on a worker of the pool.
   */
  public static void forRange(int count, int grain, RangeBody body) {
    if (count <= 0) {
      return;
    }
    int chunks = Math.min(threads() * 4, Math.max(1, count / Math.max(1, grain)));
    if (chunks <= 1 || ForkJoinTask.inForkJoinPool() && Thread.currentThread() instanceof
        java.util.concurrent.ForkJoinWorkerThread w && w.getPool() == POOL) {
      body.run(0, count);
      return;
    }
    POOL.invoke(new Chunk(body, count, chunks, 0, chunks));
  }

  private static final class Chunk extends RecursiveAction {
    private final RangeBody body;
    private final int count;
    private final int chunks;
    private final int from;
    private final int to;

    Chunk(RangeBody body, int count, int chunks, int from, int to) {
      this.body = body;
      this.count = count;
      this.chunks = chunks;
      this.from = from;
      this.to = to;
    }

    @Override
    protected void compute() {
      if (to - from == 1) {
        int start = (int) ((long) count * from / chunks);
        int end = (int) ((long) count * to / chunks);
        body.run(start, end);
        return;
      }
      int mid = (from + to) >>> 1;
      invokeAll(new Chunk(body, count, chunks, from, mid), new Chunk(body, count, chunks, mid, to));
    }
  }
}
