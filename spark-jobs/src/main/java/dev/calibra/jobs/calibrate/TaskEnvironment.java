package dev.calibra.jobs.calibrate;

import java.util.OptionalInt;

/**
 * What a task knows of where it runs, from Spark's TaskContext: the GPU it was given, its
 * attempt number, its executor, and a counter the Spark UI shows.
 *
 * @param gpu the device ordinal of the task's GPU, if it was given one
 * @param attempt 0 for a task's first attempt, 1 for its first retry, …
 * @param executor the Spark executor id ("driver" in local mode)
 * @param windowCounter called once per calibrated window
 */
public record TaskEnvironment(OptionalInt gpu, int attempt, String executor,
    Runnable windowCounter) {

  /** Outside Spark: no GPU, first attempt, nothing counted. */
  public static TaskEnvironment local() {
    return new TaskEnvironment(OptionalInt.empty(), 0, "local", () -> { });
  }
}
