package dev.calibra.jobs.spark;

import dev.calibra.jobs.calibrate.JobSpec;
import dev.calibra.jobs.calibrate.ShardReport;
import dev.calibra.jobs.calibrate.ShardTask;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.partitioning.Schedule;
import dev.calibra.partitioning.Shard;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calibrate stage: one Spark task per shard of the plan that has no part file yet.
 *
 * <p>Parallel schedule: one job holding every such shard; Spark runs as many at once as there
 * are slots. Sequential schedule: one job per shard, in order; while shard s runs, shard s + 1
 * is already submitted (when there are two slots or more), so that its task loads its weights
 * and then waits for shard s's hand-off. Spark runs the jobs first come first served, so a
 * retried shard s gets the next free slot before anything after it. A lost executor's task is
 * retried by Spark; a task that finds its shard's part already written returns its report.
 */
final class CalibrateStage {

  private static final Logger LOG = LoggerFactory.getLogger(CalibrateStage.class);

  /** Every shard's report in shard order, and how many this run calibrated. */
  record Result(List<ShardReport> reports, int calibrated, int skipped) {}

  private final SparkStages stages;
  private final JobSpec spec;
  private final CalibrationPlan plan;
  private final LongAccumulator windows;
  private final int slots;

  CalibrateStage(SparkStages stages, JobSpec spec, CalibrationPlan plan, LongAccumulator windows,
      int slots) {
    this.stages = stages;
    this.spec = spec;
    this.plan = plan;
    this.windows = windows;
    this.slots = slots;
  }

  Result run() throws IOException {
    WorkDirectory work = spec.work();
    Map<Integer, ShardReport> reports = new TreeMap<>();
    List<Shard> todo = new ArrayList<>();
    for (Shard shard : plan.shards()) {
      if (work.shardPart(shard.index()).exists()) {
        reports.put(shard.index(),
            JsonFiles.read(work.shardReport(shard.index()), ShardReport.class).skipped());
        LOG.info("shard {} (windows {}): finished by an earlier run, skipped", shard.index(),
            shard.windowLabel());
      } else {
        todo.add(shard);
      }
    }
    if (!todo.isEmpty()) {
      try (ProgressWatcher watcher = ProgressWatcher.start(work.progress(), LOG)) {
        reports.putAll(plan.schedule() == Schedule.PARALLEL ? parallel(todo) : sequential(todo));
      } catch (RuntimeException e) {
        stages.cancelAll();
        throw e;
      }
    }
    return new Result(List.copyOf(reports.values()), todo.size(),
        plan.shards().size() - todo.size());
  }

  private Map<Integer, ShardReport> parallel(List<Shard> todo) {
    String description = String.format(Locale.ROOT, "calibra calibrate (parallel): %d shard%s of %d, windows "
        + "%s", todo.size(), todo.size() == 1 ? "" : "s", plan.shards().size(), windowRange(todo));
    LOG.info(description);
    Map<Integer, ShardReport> reports = new LinkedHashMap<>();
    for (ShardReport report : stages.run("calibra-calibrate", description, todo,
        task(spec, windows))) {
      reports.put(report.shard(), report);
      logDone(report);
    }
    return reports;
  }

  private Map<Integer, ShardReport> sequential(List<Shard> todo) {
    int lookahead = slots >= 2 ? 1 : 0;
    List<SparkStages.Pending<ShardReport>> submitted = new ArrayList<>();
    Map<Integer, ShardReport> reports = new LinkedHashMap<>();
    for (int i = 0; i < todo.size(); i++) {
      while (submitted.size() < Math.min(todo.size(), i + 1 + lookahead)) {
        Shard shard = todo.get(submitted.size());
        String description = String.format(Locale.ROOT, "calibra calibrate (sequential): shard %d of %d, "
            + "windows %s, blocks %s", shard.index(), plan.shards().size(), shard.windowLabel(),
            shard.trainedBlocks().label());
        LOG.info(description + (submitted.size() > i ? " (loads its weights meanwhile)" : ""));
        submitted.add(stages.submit("calibra-shard-" + shard.index(), description,
            List.of(shard), task(spec, windows)));
      }
      ShardReport report = submitted.get(i).get().get(0);
      reports.put(report.shard(), report);
      logDone(report);
    }
    return reports;
  }

  /** The task of every shard; static so that it captures only what Spark ships to executors. */
  private static Function<Shard, ShardReport> task(JobSpec spec, LongAccumulator windows) {
    return shard -> new ShardTask(spec, SparkTasks.environment(windows)).run(shard);
  }

  private static void logDone(ShardReport report) {
    LOG.info(String.format(Locale.ROOT, "shard %d: calibrated in %.1f s (loading %.1f s, waiting %.1f s) on "
        + "executor %s (%s), attempt %d, %s", report.shard(), report.seconds(),
        report.loadSeconds(), report.waitSeconds(), report.executor(), report.host(),
        report.attempt() + 1, report.backend()));
  }

  private static String windowRange(List<Shard> shards) {
    Shard last = shards.get(shards.size() - 1);
    int first = shards.get(0).windows().get(0).index();
    int end = last.windows().get(last.windows().size() - 1).index();
    return first == end ? Integer.toString(first) : first + "-" + end;
  }
}
