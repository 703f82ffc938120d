package dev.calibra.jobs.spark;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.jobs.calibrate.EndToEndReport;
import dev.calibra.jobs.calibrate.ShardReport;
import dev.calibra.jobs.cli.CalibrateOptions;
import dev.calibra.jobs.cli.CalibrationData;
import dev.calibra.jobs.cli.EvaluationData;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.model.eval.Perplexity;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.partitioning.CalibrationPlan;
import dev.calibra.partitioning.Shard;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * What a run of the job did, stage by stage, as the final JSON summary (written next to the
 * artifact) and as a table for the console. Unlike the artifact, it records times and hosts.
 */
public final class JobSummary {

  private final ObjectNode json = JsonFiles.JSON.createObjectNode();
  private final long startNanos = System.nanoTime();
  private List<ShardReport> shards = List.of();
  private EndToEndReport endToEnd;
  private Perplexity quantized;
  private Perplexity floats;
  private Perplexity roundToNearest;

  JobSummary(CalibrateOptions options, JavaSparkContext spark) {
    json.put("tool", "calibra calibrate (Spark job)");
    json.put("started", Instant.now().toString());
    json.put("driver_host", host());
    json.put("java", System.getProperty("java.version"));
    ObjectNode sparkFacts = json.putObject("spark");
    sparkFacts.put("version", spark.version());
    sparkFacts.put("master", spark.master());
    sparkFacts.put("application_id", spark.sc().applicationId());
    sparkFacts.put("default_parallelism", spark.defaultParallelism());
    json.put("schedule", options.schedule().name().toLowerCase(Locale.ROOT));
    json.put("backend", options.backend().name().toLowerCase(Locale.ROOT));
    json.put("artifact", options.output());
    json.put("work_directory", options.workDirectory());
    json.set("recipe", JsonFiles.JSON.valueToTree(options.recipe()));
  }

  void inputs(String model, LlamaConfig config, CalibrationData samples,
      EvaluationData evaluation, CalibrationPlan plan, boolean resumed) {
    ObjectNode modelFacts = json.putObject("model");
    modelFacts.put("path", model);
    modelFacts.put("architecture", config.architecture());
    modelFacts.put("blocks", config.numLayers());
    modelFacts.put("hidden_size", config.hiddenSize());
    ObjectNode calibration = json.putObject("calibration");
    calibration.put("source", samples.description());
    calibration.put("samples", samples.samples().size());
    calibration.put("seq_len", samples.samples().get(0).length);
    ObjectNode eval = json.putObject("evaluation");
    eval.put("source", evaluation.description());
    eval.put("windows", evaluation.windows().size());
    eval.put("context", evaluation.contextLength());
    json.put("resumed", resumed);
    ObjectNode planFacts = json.putObject("plan");
    planFacts.put("slots", plan.executors().size());
    planFacts.put("estimated_seconds", plan.estimatedSeconds());
    ArrayNode planned = planFacts.putArray("shards");
    for (Shard shard : plan.shards()) {
      planned.addObject().put("shard", shard.index()).put("windows", shard.windowLabel())
          .put("trained_blocks", shard.trainedBlocks().label())
          .put("owned_blocks", shard.ownedBlocks().label())
          .put("warm_up_blocks", shard.warmUpBlocks().label())
          .put("carried_blocks", shard.carriedBlocks().label())
          .put("estimated_peak_bytes", shard.peakBytes());
    }
  }

  void capture(List<Integer> written, List<Integer> needed, double seconds) {
    ObjectNode stage = stage("capture", seconds);
    stage.set("blocks", JsonFiles.JSON.valueToTree(needed));
    stage.set("written_blocks", JsonFiles.JSON.valueToTree(written));
    stage.put("skipped", written.isEmpty());
  }

  void calibrate(CalibrateStage.Result result, double seconds) {
    shards = result.reports();
    ObjectNode stage = stage("calibrate", seconds);
    stage.put("calibrated_shards", result.calibrated());
    stage.put("skipped_shards", result.skipped());
    stage.set("shards", JsonFiles.JSON.valueToTree(result.reports()));
  }

  /**
   * @param result the stage's, null when the job runs no end-to-end pass
   * @param requested end-to-end epochs the options ask for
   * @param epochs end-to-end epochs the job runs: 0 when the pass does not fit a slot
   */
  void endToEnd(EndToEndStage.Result result, int requested, int epochs, CalibrationPlan plan,
      double seconds) {
    ObjectNode stage = stage("end_to_end", seconds);
    stage.put("epochs_requested", requested);
    stage.put("epochs", epochs);
    stage.put("estimated_peak_bytes", plan.endToEndPeakBytes());
    stage.put("fits", plan.endToEndFits());
    stage.put("skipped", result == null || !result.ran());
    if (result != null) {
      endToEnd = result.report();
      stage.set("report", JsonFiles.JSON.valueToTree(result.report()));
    }
  }

  void pack(String artifact, long bytes, boolean skipped, double seconds) {
    ObjectNode stage = stage("pack", seconds);
    stage.put("artifact", artifact);
    stage.put("bytes", bytes);
    stage.put("skipped", skipped);
  }

  void evaluate(EvaluateStage.Result result, double seconds) {
    quantized = result.quantized();
    floats = result.floats();
    roundToNearest = result.roundToNearest();
    ObjectNode stage = stage("evaluate", seconds);
    stage.put("tasks", result.tasks());
    ObjectNode perplexity = json.putObject("perplexity");
    perplexity.put("quantized", quantized.value());
    perplexity.put("float", floats.value());
    perplexity.put("round_to_nearest", roundToNearest.value());
    perplexity.put("quantized_mean_nll", quantized.meanNll());
    perplexity.put("float_mean_nll", floats.meanNll());
    perplexity.put("predictions", quantized.predictions());
  }

  /** The summary as written; finishing time and total seconds are taken now. */
  public ObjectNode toJson() {
    ObjectNode copy = json.deepCopy();
    copy.put("finished", Instant.now().toString());
    copy.put("seconds", (System.nanoTime() - startNanos) / 1e9);
    return copy;
  }

  /** One row per shard, then the perplexities. */
  public String table() {
    StringBuilder out = new StringBuilder();
    String format = "%-6s %-8s %-7s %-11s %-8s %-10s %9s %9s%n";
    out.append(String.format(Locale.ROOT, format, "shard", "windows", "blocks", "status",
        "attempt", "executor", "task s", "waited s"));
    for (ShardReport r : shards) {
      int first = r.windows().stream().filter(w -> !w.warmUp()).mapToInt(w -> w.index()).min()
          .orElse(-1);
      int last = r.windows().stream().mapToInt(w -> w.index()).max().orElse(-1);
      int firstBlock = r.layers().isEmpty() ? -1 : r.layers().get(0).block();
      int lastBlock = r.layers().isEmpty() ? -1 : r.layers().get(r.layers().size() - 1).block();
      out.append(String.format(Locale.ROOT, format, r.shard(),
          first == last ? Integer.toString(first) : first + "-" + last,
          firstBlock == lastBlock ? Integer.toString(firstBlock) : firstBlock + "-" + lastBlock,
          r.status(), r.attempt() + 1, r.executor(), String.format(Locale.ROOT, "%.1f",
              r.seconds()), String.format(Locale.ROOT, "%.1f", r.waitSeconds())));
    }
    if (endToEnd != null) {
      out.append(String.format(Locale.ROOT, "end-to-end pass: window %d, loss %.4g -> %.4g, %s, "
          + "attempt %d, executor %s, %.1f s%n", endToEnd.window().index(),
          endToEnd.window().lossStart(), endToEnd.window().lossEnd(), endToEnd.status(),
          endToEnd.attempt() + 1, endToEnd.executor(), endToEnd.seconds()));
    }
    if (quantized != null) {
      out.append(String.format(Locale.ROOT, "perplexity: float %.4f, quantized %.4f (%+.2f%%), "
          + "round-to-nearest %.4f (%+.2f%%), over %d predictions%n", floats.value(),
          quantized.value(), 100 * (quantized.value() / floats.value() - 1),
          roundToNearest.value(), 100 * (roundToNearest.value() / floats.value() - 1),
          quantized.predictions()));
    }
    return out.toString();
  }

  private ObjectNode stage(String name, double seconds) {
    ObjectNode stages = json.has("stages") ? (ObjectNode) json.get("stages")
        : json.putObject("stages");
    ObjectNode stage = stages.putObject(name);
    stage.put("seconds", seconds);
    return stage;
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
