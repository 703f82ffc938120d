package dev.calibra.jobs.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.jobs.calibrate.CaptureTask;
import dev.calibra.jobs.calibrate.EndToEndReport;
import dev.calibra.jobs.calibrate.JobArtifact;
import dev.calibra.jobs.calibrate.JobSpec;
import dev.calibra.jobs.calibrate.PackTask;
import dev.calibra.jobs.calibrate.ShardReport;
import dev.calibra.jobs.cli.CalibrateOptions;
import dev.calibra.jobs.cli.CalibrationData;
import dev.calibra.jobs.cli.EvaluationData;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.TokenFile;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.partitioning.ExecutorSpec;
import dev.calibra.partitioning.Schedule;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver of the CBQ calibration job: prepares the work directory (samples, identity, plan),
 * then runs the stages capture → calibrate → end-to-end (when the recipe has the pass and the
 * whole model fits a slot) → pack → evaluate as Spark jobs, each a handful of tasks that read
 * and write the work directory. Only descriptions of work go to the tasks and only small reports
 * come back. Whatever an earlier run over the same work directory finished is skipped. Returns
 * the run's summary.
 */
public final class CalibrationJob {

  private static final Logger LOG = LoggerFactory.getLogger(CalibrationJob.class);

  private final JavaSparkContext spark;
  private final CalibrateOptions options;
  private final SparkStages stages;

  public CalibrationJob(JavaSparkContext spark, CalibrateOptions options) {
    this.spark = spark;
    this.options = options;
    this.stages = new SparkStages(spark);
  }

  public JobSummary run() throws IOException {
    JobSummary summary = new JobSummary(options, spark);
    WorkDirectory work = WorkDirectory.at(options.workDirectory());
    FileLocation output = FileLocation.of(options.output(), new Configuration());
    List<ExecutorSpec> slots = PlanMaker.slots(spark, options.slots(), options.gpuMemoryBytes());
    Prepared job = prepare(work, output, slots, summary);

    long start = System.nanoTime();
    List<Integer> captureBlocks = options.schedule() == Schedule.PARALLEL
        ? job.plan().captureBlocks() : List.of(0);
    summary.capture(capture(job.spec(), captureBlocks), captureBlocks, seconds(start));

    start = System.nanoTime();
    LongAccumulator windows = spark.sc().longAccumulator("calibra: windows calibrated");
    CalibrateStage.Result calibrated = new CalibrateStage(stages, job.spec(), job.plan(), windows,
        slots.size()).run();
    summary.calibrate(calibrated, seconds(start));

    start = System.nanoTime();
    EndToEndStage.Result tuned = null;
    if (job.spec().recipe().endToEndEpochs() > 0) {
      tuned = EndToEndStage.run(stages, job.spec(), job.plan().shards().size(),
          calibrated.calibrated(), windows);
    }
    summary.endToEnd(tuned, options.recipe().endToEndEpochs(),
        job.spec().recipe().endToEndEpochs(), job.plan(), seconds(start));

    start = System.nanoTime();
    boolean packed = alreadyPacked(work, output) && calibrated.calibrated() == 0
        && (tuned == null || !tuned.ran());
    long bytes;
    if (packed) {
      bytes = output.length();
      LOG.info("pack: {} was merged from this work directory's parts already, skipped", output);
    } else {
      bytes = pack(job, output, calibrated.reports(), tuned == null ? null : tuned.report());
    }
    summary.pack(output.toString(), bytes, packed, seconds(start));

    start = System.nanoTime();
    EvaluateStage.Result evaluated = EvaluateStage.run(stages, job.spec(),
        job.evaluationWindows(), slots.size());
    LOG.info(String.format(Locale.ROOT, "evaluate: perplexity %.4f quantized, %.4f float, %.4f "
        + "round-to-nearest, over %d predictions", evaluated.quantized().value(),
        evaluated.floats().value(), evaluated.roundToNearest().value(),
        evaluated.quantized().predictions()));
    summary.evaluate(evaluated, seconds(start));
    return summary;
  }

  /** What the stages need, prepared on the driver from the model's config and the data. */
  private record Prepared(JobSpec spec, CalibrationPlan plan, int evaluationWindows) {}

  /**
   * Tokenizes the data, claims the work directory (or checks that it holds this job), writes the
   * samples and evaluation windows there and makes or reads back the plan.
   */
  private Prepared prepare(WorkDirectory work, FileLocation output, List<ExecutorSpec> slots,
      JobSummary summary) throws IOException {
    try (ModelDirectory model = ModelDirectory.open(options.model())) {
      LlamaConfig config = model.config();
      LOG.info("model {}: {} blocks, hidden {}; work directory {}; artifact {}", model.location(),
          config.numLayers(), config.hiddenSize(), work, output);
      CalibrationData data = options.calibrationData(model, LOG::info);
      List<int[]> samples = data.samples();
      EvaluationData evaluation = EvaluationData.load(options.evaluation(), config.maxPositions(),
          model.location(), model::tokenizer);
      String recipeJson = JobSpec.recipeToJson(options.recipe());
      String vqJson = JobSpec.vqToJson(options.vqRecipe());
      boolean resumed = JobIdentity.claim(work, JobIdentity.of(model.location().toString(),
          samples, recipeJson, vqJson, options.schedule()));
      requireOutputFree(work, output);
      if (!work.calibrationSamples().exists()) {
        TokenFile.write(work.calibrationSamples(), samples);
      }
      TokenFile.write(work.evaluationWindows(), evaluation.windows());
      CalibrationPlan plan = PlanMaker.planFor(work, config, options.recipe(),
          options.vqRecipe(), samples, options.schedule(), slots);
      LOG.info("calibration: {}; evaluation: {}; {}", data.description(), evaluation.description(),
          resumed ? "resuming the work directory's job" : "a new job");
      LOG.info("\n" + plan.describe());
      CbqRecipe recipe = EndToEndStage.recipeFor(options.recipe(), plan);
      String artifactRecipe = JobArtifact.recipe(recipe, vqJson, options.schedule(),
          plan.shards(), samples.size(), samples.get(0).length, JobIdentity.checksum(samples))
          .toString();
      JobSpec spec = new JobSpec(model.location().toString(), work.root().toString(),
          output.toString(), JobSpec.recipeToJson(recipe), vqJson, artifactRecipe,
          options.schedule(), options.backend());
      summary.inputs(model.location().toString(), config, data, evaluation, plan, resumed);
      return new Prepared(spec, plan, evaluation.windows().size());
    }
  }

  /** The capture stage; returns the blocks whose activations it wrote (none when all were there). */
  private List<Integer> capture(JobSpec spec, List<Integer> blocks) {
    String description = "calibra capture: float activations at the input of block"
        + (blocks.size() == 1 ? " " : "s ") + blocks;
    LOG.info(description);
    List<Integer> written = stages.run("calibra-capture", description, List.of(blocks),
        captureTask(spec)).get(0);
    LOG.info(written.isEmpty() ? "capture: every file was there from an earlier run"
        : "capture: wrote blocks " + written);
    return written;
  }

  /**
   * The pack stage; returns the artifact's size.
   *
   * @param endToEnd the end-to-end pass's report, null when the job runs none
   */
  private long pack(Prepared job, FileLocation output, List<ShardReport> reports,
      EndToEndReport endToEnd) {
    int shards = job.plan().shards().size();
    String description = "calibra pack: merge " + (endToEnd == null ? shards + 1 : 2)
        + " parts into " + output;
    LOG.info(description);
    return stages.run("calibra-pack", description, List.of(metrics(reports, endToEnd)),
        packTask(job.spec(), shards)).get(0);
  }

  /** An artifact at the output that this work directory did not make is not replaced unasked. */
  private void requireOutputFree(WorkDirectory work, FileLocation output) throws IOException {
    if (output.exists() && !alreadyPacked(work, output) && !options.overwrite()) {
      throw new FileAlreadyExistsException("the artifact " + output + " exists and was not made "
          + "from the work directory " + work + "; choose another --output, delete it, or add "
          + "--overwrite");
    }
  }

  /** Whether the work directory's parts were merged into {@code output}, which is there. */
  private static boolean alreadyPacked(WorkDirectory work, FileLocation output) throws IOException {
    if (!work.packedFile().exists() || !output.exists()) {
      return false;
    }
    JsonNode packed = JsonFiles.read(work.packedFile(), JsonNode.class);
    return packed.path("artifact").asText().equals(output.toString())
        && packed.path("bytes").asLong() == output.length();
  }

  /**
   * The artifact's calibra.metrics: each layer's relative weight error (after the end-to-end pass
   * when there was one) and each window's losses, the pass's last, all reproducible (no times),
   * so that a rerun writes the same bytes.
   */
  private static String metrics(List<ShardReport> reports, EndToEndReport endToEnd) {
    ObjectNode metrics = JsonFiles.JSON.createObjectNode();
    ArrayNode layers = metrics.putArray("layers");
    ArrayNode windows = metrics.putArray("windows");
    List<ShardReport.LayerError> errors = endToEnd != null ? endToEnd.layers()
        : reports.stream().flatMap(r -> r.layers().stream()).toList();
    for (ShardReport.LayerError error : errors) {
      layers.addObject().put("block", error.block()).put("layer", error.layer())
          .put("relative_error", error.relativeError());
    }
    for (ShardReport report : reports) {
      for (ShardReport.WindowResult window : report.windows()) {
        windows.addObject().put("shard", report.shard()).put("window", window.index())
            .put("first_block", window.firstBlock()).put("last_block", window.lastBlock())
            .put("warm_up", window.warmUp()).put("loss_start", window.lossStart())
            .put("loss_end", window.lossEnd());
      }
    }
    if (endToEnd != null) {
      ShardReport.WindowResult window = endToEnd.window();
      windows.addObject().put("end_to_end", true).put("window", window.index())
          .put("first_block", window.firstBlock()).put("last_block", window.lastBlock())
          .put("loss_start", window.lossStart()).put("loss_end", window.lossEnd());
    }
    return metrics.toString();
  }

  private static Function<List<Integer>, List<Integer>> captureTask(JobSpec spec) {
    return blocks -> new CaptureTask(spec, SparkTasks.environment(null)).run(blocks);
  }

  private static Function<String, Long> packTask(JobSpec spec, int shards) {
    return metrics -> new PackTask(spec).run(shards, metrics);
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }
}
