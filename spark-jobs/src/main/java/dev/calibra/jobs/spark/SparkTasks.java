package dev.calibra.jobs.spark;

import dev.calibra.jobs.calibrate.TaskEnvironment;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.util.LongAccumulator;

/** Builds a task's {@link TaskEnvironment} from Spark, inside the running task. */
final class SparkTasks {

  private SparkTasks() {}

  /** @param windows counts calibrated windows in the Spark UI; null where none are */
  static TaskEnvironment environment(LongAccumulator windows) {
    TaskContext context = TaskContext.get();
    return new TaskEnvironment(GpuAddress.of(context.resourcesJMap()), context.attemptNumber(),
        SparkEnv.get().executorId(), windows == null ? () -> { } : () -> windows.add(1));
  }
}
