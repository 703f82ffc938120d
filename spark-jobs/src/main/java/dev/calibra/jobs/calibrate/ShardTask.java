package dev.calibra.jobs.calibrate;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.cbq.ActivationStreams;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CarriedBlock;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.jobs.workdir.ActivationFile;
import dev.calibra.jobs.workdir.CarriedStateFile;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.kernels.Backends;
import dev.calibra.model.backend.Backend;
import dev.calibra.partitioning.Schedule;
import dev.calibra.partitioning.Shard;
import dev.calibra.partitioning.WindowSpan;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calibrates one shard of the plan: the body of one Spark task of the calibrate stage, free of
 * Spark so that tests run it directly.
 *
 * <p>Parallel schedule: starts from the captured float activations at its first warm-up block,
 * calibrates the warm-up blocks as a window of their own and drops them, so that its real
 * windows start from inputs that carry quantization noise. Sequential schedule: loads its
 * weights, then waits for the previous shard to finish and starts from its hand-off (both
 * streams and the learned state of the blocks the two shards share), and leaves its own
 * hand-off for the next shard. Either way it ends by writing its report and then its part file,
 * whose presence marks the shard done.
 */
public final class ShardTask {

  private static final Logger LOG = LoggerFactory.getLogger(ShardTask.class);
  private static final long POLL_MILLIS = 500;

  private final JobSpec spec;
  private final TaskEnvironment environment;

  public ShardTask(JobSpec spec, TaskEnvironment environment) {
    this.spec = spec;
    this.environment = environment;
  }

  public ShardReport run(Shard shard) throws IOException, InterruptedException {
    WorkDirectory work = spec.work();
    if (work.shardPart(shard.index()).exists()) {
      // An earlier attempt committed it and then lost its executor before Spark heard back.
      return JsonFiles.read(work.shardReport(shard.index()), ShardReport.class);
    }
    long start = System.nanoTime();
    CbqRecipe recipe = spec.recipe();
    try (Backends.Selected opened = TaskBackends.open(spec.backend(), environment.gpu());
        ModelDirectory model = ModelDirectory.open(spec.model())) {
      Backend backend = opened.backend();
      LOG.info("shard {}: windows {}, blocks {}, on {} (attempt {})", shard.index(),
          shard.windowLabel(), shard.trainedBlocks().label(), opened.description(),
          environment.attempt());
      PreloadedBlocks weights = PreloadedBlocks.load(
          CbqCalibrator.modelToCalibrate(model.weights(), recipe), backend,
          shard.warmUpBlocks(), shard.trainedBlocks());
      double loadSeconds = seconds(start);

      long waitStart = System.nanoTime();
      if (spec.schedule() == Schedule.SEQUENTIAL && shard.index() > 0) {
        awaitPrevious(work, shard.index());
      }
      double waitSeconds = seconds(waitStart);

      Progress progress = new Progress(work, shard);
      CbqCalibrator calibrator = new CbqCalibrator(backend, recipe, spec.layerQuantizers(),
          progress);
      ActivationStreams streams;
      List<CarriedBlock> carried = List.of();
      if (spec.schedule() == Schedule.PARALLEL) {
        streams = ActivationFile.read(work.capture(shard.floatInputBlock()), backend);
        if (shard.warmUpBlocks().count() > 0) {
          progress.warmUp = true;
          // The warm-up stands in for the previous shard's last window, whose index it takes.
          WindowSpan warmUp = new WindowSpan(shard.windows().get(0).index() - 1,
              shard.warmUpBlocks());
          streams = calibrator.calibrateWindows(weights, streams, List.of(warmUp),
              shard.trainedBlocks().first(), List.of()).next();
          progress.warmUp = false;
        }
      } else if (shard.index() == 0) {
        streams = ActivationFile.read(work.capture(0), backend);
      } else {
        streams = ActivationFile.read(work.handOffStreams(shard.index()), backend);
        carried = CarriedStateFile.read(work.handOffState(shard.index()));
      }

      int handOffBlock = shard.ownedBlocks().last() + 1;
      CbqCalibrator.Outcome outcome = calibrator.calibrateWindows(weights, streams,
          shard.windows(), handOffBlock, carried);
      requireOwned(shard, outcome.finished());
      if (spec.schedule() == Schedule.SEQUENTIAL && handOffBlock < model.config().numLayers()) {
        ActivationFile.write(work.handOffStreams(shard.index() + 1), outcome.next(), backend);
        CarriedStateFile.write(work.handOffState(shard.index() + 1), outcome.carried());
      }
      ShardReport report = new ShardReport(shard.index(), ShardReport.CALIBRATED,
          environment.attempt(), environment.executor(), host(), ProcessHandle.current().pid(),
          opened.description(), progress.results, BlockPart.layerErrors(outcome.finished()),
          loadSeconds, waitSeconds, seconds(start));
      JsonFiles.write(work.shardReport(shard.index()), report);
      BlockPart.write(work.shardPart(shard.index()), outcome.finished(), model, spec, backend);
      LOG.info("shard {}: done in {} s", shard.index(), String.format(Locale.ROOT, "%.1f", report.seconds()));
      return report;
    }
  }

  /** Waits until the previous shard's part file, written after its hand-off, is there. */
  private static void awaitPrevious(WorkDirectory work, int shard)
      throws IOException, InterruptedException {
    FileLocation previous = work.shardPart(shard - 1);
    if (!previous.exists()) {
      LOG.info("shard {}: weights loaded, waiting for shard {} to hand over", shard, shard - 1);
    }
    while (!previous.exists()) {
      Thread.sleep(POLL_MILLIS);
    }
  }

  private static void requireOwned(Shard shard, List<QuantizedBlock> finished) {
    List<Integer> blocks = finished.stream().map(QuantizedBlock::index).toList();
    List<Integer> owned = new ArrayList<>();
    for (int b = shard.ownedBlocks().first(); b <= shard.ownedBlocks().last(); b++) {
      owned.add(b);
    }
    if (!blocks.equals(owned)) {
      throw new IllegalStateException("shard " + shard.index() + " finished blocks " + blocks
          + " but owns " + owned);
    }
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** Records each window: in the report, as a progress file for the driver, in the Spark UI. */
  private final class Progress implements CalibrationListener {
    private final WorkDirectory work;
    private final Shard shard;
    private final List<ShardReport.WindowResult> results = new ArrayList<>();
    private boolean warmUp;

    Progress(WorkDirectory work, Shard shard) {
      this.work = work;
      this.shard = shard;
    }

    @Override
    public void windowDone(WindowReport report) {
      results.add(new ShardReport.WindowResult(report.index(), report.firstBlock(),
          report.lastBlock(), warmUp, report.losses().start(), report.losses().end(),
          report.seconds()));
      int windows = shard.windows().size() + (shard.warmUpBlocks().count() > 0 ? 1 : 0);
      WindowProgress event = new WindowProgress(shard.index(), report.index(),
          report.firstBlock(), report.lastBlock(), warmUp, results.size(), windows,
          report.losses().start(), report.losses().end(), report.seconds(),
          environment.executor(), host(), ProcessHandle.current().pid(), environment.attempt());
      try {
        JsonFiles.write(work.windowProgress(shard.index(), report.index()), event);
      } catch (IOException e) {
        // Progress is for watching; a file that could not be written costs the calibration nothing.
        LOG.warn("shard {}: could not record the progress of window {}: {}", shard.index(),
            report.index(), e.getMessage());
      }
      environment.windowCounter().run();
    }

    @Override
    public void blockDone(QuantizedBlock block) {}
  }
}
