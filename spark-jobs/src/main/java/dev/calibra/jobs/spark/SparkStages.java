package dev.calibra.jobs.spark;

import java.util.List;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * Runs a stage's tasks as one Spark job: one partition, and so one task, per item. Items are
 * descriptions of work (shards, block lists, window ranges), never data. Each job gets a group
 * (to cancel it) and a description, which the Spark UI shows on its jobs and stages pages.
 */
final class SparkStages {

  private final JavaSparkContext spark;

  SparkStages(JavaSparkContext spark) {
    this.spark = spark;
  }

  <T, R> List<R> run(String group, String description, List<T> items, Function<T, R> task) {
    return submit(group, description, items, task).get();
  }

  /** Starts the job and returns at once; Spark runs jobs submitted earlier first (FIFO). */
  <T, R> Pending<R> submit(String group, String description, List<T> items,
      Function<T, R> task) {
    // Job group, description and call site are thread-local properties read when the job is
    // submitted; the call site names the job's stages in the UI instead of a line of this file.
    spark.setJobGroup(group, description, true);
    spark.setCallSite(description);
    try {
      return new Pending<>(spark.parallelize(items, items.size()).map(task).collectAsync());
    } finally {
      spark.clearCallSite();
      spark.clearJobGroup();
    }
  }

  void cancelAll() {
    spark.cancelAllJobs();
  }

  /** A submitted job's results; waiting turns its failure into the task's exception. */
  static final class Pending<R> {
    private final JavaFutureAction<List<R>> future;

    private Pending(JavaFutureAction<List<R>> future) {
      this.future = future;
    }

    List<R> get() {
      try {
        return future.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        future.cancel(true);
        throw new IllegalStateException("interrupted while waiting for a Spark job", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new StageFailedException(e.getCause());
      }
    }
  }

  /** A Spark job that failed for good (after Spark's own retries). */
  static final class StageFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StageFailedException(Throwable cause) {
      super(cause.getMessage(), cause);
    }
  }
}
