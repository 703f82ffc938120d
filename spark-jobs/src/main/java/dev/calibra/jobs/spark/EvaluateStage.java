package dev.calibra.jobs.spark;

import dev.calibra.jobs.calibrate.EvaluateTask;
import dev.calibra.jobs.calibrate.JobSpec;
import dev.calibra.model.eval.Perplexity;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.function.Function;

/**
 * The evaluate stage: the evaluation windows cut into contiguous runs, one task per slot, each
 * summing the negative log-likelihood of its windows under the artifact, the float model and
 * round-to-nearest.
 * Only the sums come back to the driver.
 */
final class EvaluateStage {

  /** Perplexity of the artifact, the float model and round-to-nearest on the same windows. */
  record Result(Perplexity quantized, Perplexity floats, Perplexity roundToNearest, int tasks) {}

  private EvaluateStage() {}

  static Result run(SparkStages stages, JobSpec spec, int windows, int slots) {
    int tasks = Math.max(1, Math.min(slots, windows));
    List<int[]> ranges = new ArrayList<>();
    for (int t = 0; t < tasks; t++) {
      int first = (int) ((long) windows * t / tasks);
      int end = (int) ((long) windows * (t + 1) / tasks);
      ranges.add(new int[] {first, end - first});
    }
    List<EvaluateTask.Sums> sums = stages.run("calibra-evaluate", String.format(
        "calibra evaluate: perplexity of the artifact, the float model and round-to-nearest, %d "
            + "windows in %d "
            + "task%s", windows, tasks, tasks == 1 ? "" : "s"), ranges, task(spec));
    double quantized = 0;
    double floats = 0;
    double roundToNearest = 0;
    long predictions = 0;
    for (EvaluateTask.Sums s : sums) {
      quantized += s.quantizedNll();
      floats += s.floatNll();
      roundToNearest += s.roundToNearestNll();
      predictions += s.predictions();
    }
    return new Result(new Perplexity(quantized, predictions), new Perplexity(floats, predictions),
        new Perplexity(roundToNearest, predictions), tasks);
  }

  private static Function<int[], EvaluateTask.Sums> task(JobSpec spec) {
    return range -> new EvaluateTask(spec, SparkTasks.environment(null)).run(range[0], range[1]);
  }
}
