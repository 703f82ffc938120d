package dev.calibra.jobs.spark;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.jobs.calibrate.EndToEndReport;
import dev.calibra.jobs.calibrate.EndToEndTask;
import dev.calibra.jobs.calibrate.JobSpec;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end stage, between calibrate and pack: one Spark task that runs the end-to-end pass
 * over the whole model from the shards' parts ({@link EndToEndTask}). Skipped when an earlier
 * run left its part and no shard was calibrated again since; a part that the shards' new results
 * made stale is done again.
 */
final class EndToEndStage {

  private static final Logger LOG = LoggerFactory.getLogger(EndToEndStage.class);

  /** The pass's report, and whether this run ran it. */
  record Result(EndToEndReport report, boolean ran) {}

  private EndToEndStage() {}

  /**
   * The recipe the job runs: {@code recipe}, less its end-to-end pass when the plan's memory
   * model says that the whole model as one window does not fit a slot, so that the artifact's
   * recipe never claims a pass it did not get. The plan, and with it the decision, is the same
   * on every run over the work directory.
   */
  static CbqRecipe recipeFor(CbqRecipe recipe, CalibrationPlan plan) {
    if (recipe.endToEndEpochs() == 0) {
      return recipe;
    }
    if (plan.endToEndFits()) {
      LOG.info("end-to-end pass: {} epoch(s) after the shards; {}", recipe.endToEndEpochs(),
          plan.describeEndToEnd());
      return recipe;
    }
    LOG.warn("end-to-end pass skipped: {}. The artifact's recipe records 0 end-to-end epochs; "
        + "give the slots more memory for it, or --e2e-epochs 0 to say so up front",
        plan.describeEndToEnd());
    return recipe.withoutEndToEnd();
  }

  /**
   * @param shards how many shards the plan has
   * @param shardsCalibrated how many of them this run calibrated
   */
  static Result run(SparkStages stages, JobSpec spec, int shards, int shardsCalibrated,
      LongAccumulator windows) throws IOException {
    WorkDirectory work = spec.work();
    FileLocation part = work.endToEndPart();
    if (part.exists() && shardsCalibrated == 0) {
      LOG.info("end-to-end pass: finished by an earlier run, skipped");
      return new Result(JsonFiles.read(work.endToEndReport(), EndToEndReport.class).skipped(),
          false);
    }
    if (part.exists()) {
      LOG.info("end-to-end pass: {} shard(s) were calibrated again, so the earlier pass's part is "
          + "stale; the pass runs again", shardsCalibrated);
      part.fileSystem().delete(part.path(), false);
    }
    String description = String.format(Locale.ROOT, "calibra end-to-end: %d epoch(s) over the "
        + "whole model, from %d shard part(s)", spec.recipe().endToEndEpochs(), shards);
    LOG.info(description);
    try (ProgressWatcher watcher = ProgressWatcher.start(work.progress(), LOG)) {
      EndToEndReport report = stages.run("calibra-end-to-end", description, List.of(shards),
          task(spec, windows)).get(0);
      LOG.info(String.format(Locale.ROOT, "end-to-end pass: loss %.4g -> %.4g, done in %.1f s "
          + "(loading %.1f s) on executor %s (%s), attempt %d, %s", report.window().lossStart(),
          report.window().lossEnd(), report.seconds(), report.loadSeconds(), report.executor(),
          report.host(), report.attempt() + 1, report.backend()));
      return new Result(report, true);
    } catch (RuntimeException e) {
      stages.cancelAll();
      throw e;
    }
  }

  /** The pass's task; static so that it captures only what Spark ships to the executor. */
  private static Function<Integer, EndToEndReport> task(JobSpec spec, LongAccumulator windows) {
    return shards -> new EndToEndTask(spec, SparkTasks.environment(windows)).run(shards);
  }
}
