package dev.calibra.jobs.calibrate;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.jobs.artifact.PartBlocks;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.kernels.Backends;
import dev.calibra.model.backend.Backend;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end stage's one task, free of Spark so that tests run it directly: reads every
 * shard's part back into the blocks the windows finished, runs the end-to-end pass over the
 * whole model ({@link CbqCalibrator#tuneEndToEnd}, as {@code calibra quantize} does after its
 * windows) on the calibration samples, and writes its report and then the tuned blocks as one
 * part, whose presence marks the pass done. The shards' parts stay as they are, so a failed pass
 * loses nothing and its retry starts from them again.
 */
public final class EndToEndTask {

  private static final Logger LOG = LoggerFactory.getLogger(EndToEndTask.class);

  private final JobSpec spec;
  private final TaskEnvironment environment;

  public EndToEndTask(JobSpec spec, TaskEnvironment environment) {
    this.spec = spec;
    this.environment = environment;
  }

  /** @param shards how many shards the plan has, all finished */
  public EndToEndReport run(int shards) throws IOException {
    WorkDirectory work = spec.work();
    if (work.endToEndPart().exists()) {
      // An earlier attempt committed it and then lost its executor before Spark heard back.
      return JsonFiles.read(work.endToEndReport(), EndToEndReport.class);
    }
    long start = System.nanoTime();
    try (Backends.Selected opened = TaskBackends.open(spec.backend(), environment.gpu());
        ModelDirectory model = ModelDirectory.open(spec.model())) {
      Backend backend = opened.backend();
      LOG.info("end-to-end pass: {} epochs over blocks 0-{}, on {} (attempt {})",
          spec.recipe().endToEndEpochs(), model.config().numLayers() - 1, opened.description(),
          environment.attempt());
      List<QuantizedBlock> windowed = new ArrayList<>();
      for (int s = 0; s < shards; s++) {
        windowed.addAll(PartBlocks.read(work.shardPart(s), model.config(), backend));
      }
      List<int[]> samples = TokenIdFiles.read(work.calibrationSamples().toString(), null);
      double loadSeconds = seconds(start);

      Progress progress = new Progress(work);
      List<QuantizedBlock> tuned = new CbqCalibrator(backend, spec.recipe(),
          spec.layerQuantizers(), progress).tuneEndToEnd(
              CbqCalibrator.modelToCalibrate(model.weights(), spec.recipe()), samples, windowed);
      EndToEndReport report = new EndToEndReport(ShardReport.CALIBRATED, environment.attempt(),
          environment.executor(), ShardTask.host(), ProcessHandle.current().pid(),
          opened.description(), progress.result, BlockPart.layerErrors(tuned), loadSeconds,
          seconds(start));
      JsonFiles.write(work.endToEndReport(), report);
      BlockPart.write(work.endToEndPart(), tuned, model, spec, backend);
      LOG.info("end-to-end pass: done in {} s", String.format(Locale.ROOT, "%.1f",
          report.seconds()));
      return report;
    }
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  /** Records the pass's window: in the report, as a progress file for the driver, in the UI. */
  private final class Progress implements CalibrationListener {
    private final WorkDirectory work;
    private ShardReport.WindowResult result;

    Progress(WorkDirectory work) {
      this.work = work;
    }

    @Override
    public void windowDone(WindowReport report) {
      result = new ShardReport.WindowResult(report.index(), report.firstBlock(),
          report.lastBlock(), false, report.losses().start(), report.losses().end(),
          report.seconds());
      WindowProgress event = new WindowProgress(WindowProgress.END_TO_END, report.index(),
          report.firstBlock(), report.lastBlock(), false, 1, 1, report.losses().start(),
          report.losses().end(), report.seconds(), environment.executor(), ShardTask.host(),
          ProcessHandle.current().pid(), environment.attempt());
      try {
        JsonFiles.write(work.endToEndProgress(report.index()), event);
      } catch (IOException e) {
        // Progress is for watching; a file that could not be written costs the pass nothing.
        LOG.warn("end-to-end pass: could not record its progress: {}", e.getMessage());
      }
      environment.windowCounter().run();
    }

    @Override
    public void blockDone(QuantizedBlock block) {}
  }
}
