package dev.calibra.jobs.cli;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.kernels.Backends;
import dev.calibra.partitioning.Schedule;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The arguments of the CBQ calibration job, the same for {@code calibra calibrate} (embedded
 * local Spark) and for spark-submit's main class {@code dev.calibra.jobs.spark.CalibrateJobMain}.
 * Defaults give the README's first command: dict-llama-15M, CBQ w4 g128 on 32 samples of its
 * calibration text, evaluated on its held-out text.
 *
 * @param calibration where the calibration samples come from, and the recipe options given
 *     (the options of {@code calibra quantize --method cbq})
 * @param recipe the CBQ recipe: the engine's defaults for the scheme with the options given
 * @param slots task slots the plan spreads shards over; 0: Spark's default parallelism
 * @param gpuMemoryBytes memory of each GPU, for the plan of a GPU cluster
 * @param master Spark master when the job is not started by spark-submit
 */
public record CalibrateOptions(
    String model,
    CbqOptions calibration,
    EvaluationSettings evaluation,
    CbqRecipe recipe,
    Schedule schedule,
    Backends.Choice backend,
    int slots,
    long gpuMemoryBytes,
    String output,
    String workDirectory,
    String summary,
    boolean overwrite,
    String master) {

  static final String DEFAULT_OUTPUT = "calibra-job/model.arrow";
  static final String DEFAULT_MASTER = "local[2]";
  static final int DEFAULT_SAMPLES = 32;

  private static final Map<String, String[]> HELP = new LinkedHashMap<>();

  static {
    HELP.put("--model", new String[] {"DIR", "model directory: config.json, *.safetensors, tokenizer; "
        + "a local path, file:// or hdfs:// URI [default: " + QuantizeOptions.DEFAULT_MODEL + "]"});
    HELP.put("--eval-text", new String[] {"FILE", "evaluation text [default: heldout.txt in the model "
        + "directory]"});
    HELP.put("--text-layout", new String[] {"paragraphs|whole", "layout of the evaluation text "
        + "[default: paragraphs]"});
    HELP.put("--eval-tokens", new String[] {"FILE[#SPLIT]", "pre-tokenized evaluation sequences, each "
        + "evaluated on its own; replaces --eval-text"});
    HELP.put("--context", new String[] {"N", "predictions per evaluation window [default: the model's "
        + "max_position_embeddings]"});
    HELP.put("--windows", new String[] {"N", "evaluation windows cut from the text, 0 for all "
        + "[default: 40]"});
    HELP.put(RecipeFile.OPTION, RecipeFile.HELP);
    HELP.put("--method", new String[] {"cbq", "the job's method, CBQ; round-to-nearest needs no "
        + "calibration and no cluster: calibra quantize --method rtn [default: cbq]"});
    HELP.put("--bits", new String[] {"N", "bits per weight, 2 to 8 [default: 4]"});
    HELP.put("--group", new String[] {"N", "group size or per-channel [default: 128]"});
    HELP.putAll(CbqOptions.HELP);
    HELP.put(CbqOptions.END_TO_END_OPTION, new String[] {"N", "cbq: passes of end-to-end tuning "
        + "after the windows, as calibra quantize runs them: a stage of one task that holds the "
        + "whole model; skipped, and recorded as 0, when the plan's memory estimate says it does "
        + "not fit a slot; 0 skips it [default: 4]"});
    HELP.put("--calib-samples", new String[] {"N", "calibration samples [default: "
        + DEFAULT_SAMPLES + ", a quarter of CBQ's usual " + CbqOptions.DEFAULT_SAMPLES + ", which "
        + "keeps the job a few minutes long on two cores]"});
    HELP.put("--schedule", new String[] {"sequential|parallel", "sequential: each shard starts from "
        + "the previous one's quantized outputs, exactly as one machine would; parallel: all "
        + "shards at once, each from the float activations with a warm-up [default: sequential]"});
    HELP.put("--backend", new String[] {"auto|cpu|cuda", "compute backend of the tasks; auto takes "
        + "the task's GPU when Spark assigned one [default: auto]"});
    HELP.put("--slots", new String[] {"N", "task slots the plan balances shards over [default: "
        + "Spark's default parallelism]"});
    HELP.put("--gpu-memory", new String[] {"BYTES", "memory of each GPU for the plan, e.g. 80g "
        + "[default: 80g]"});
    HELP.put("--output", new String[] {"FILE", "the artifact: local path, file:// or hdfs:// URI "
        + "[default: " + DEFAULT_OUTPUT + "]"});
    HELP.put("--work-dir", new String[] {"DIR", "work directory for activations, shard results and "
        + "restarts; a re-run with the same one skips what is done [default: the output with "
        + ".work instead of .arrow]"});
    HELP.put("--summary", new String[] {"FILE", "the run's JSON summary [default: the output with "
        + ".summary.json instead of .arrow]"});
    HELP.put("--overwrite", new String[] {"", "replace an existing artifact that this work "
        + "directory did not make"});
    HELP.put("--master", new String[] {"URL", "Spark master when not started by spark-submit, "
        + "e.g. local[4]; a cluster takes spark-submit and the application jar [default: "
        + DEFAULT_MASTER + "]"});
    HELP.put("--help", new String[] {"", "print this help and exit"});
  }

  public static String help() {
    return QuantizeOptions.helpText("Usage: calibra calibrate [options]\n"
        + "   or: spark-submit --class dev.calibra.jobs.spark.CalibrateJobMain APP_JAR [options]\n\n"
        + "Calibrates a Llama-family model with CBQ on Spark: capture (float activations at the\n"
        + "shard boundaries) -> calibrate (one task per shard) -> end-to-end (one task, the whole\n"
        + "model) -> pack (the artifact) -> evaluate (perplexity). Prints progress per shard and\n"
        + "window; writes the artifact and a JSON summary.\n", HELP);
  }

  public static boolean wantsHelp(String[] args) {
    return QuantizeOptions.wantsHelp(args);
  }

  /** @throws IllegalArgumentException naming the bad option and what it accepts */
  public static CalibrateOptions parse(String[] args) {
    Map<String, String> values = QuantizeOptions.values(args, HELP);
    if (values.containsKey("--eval-text") && values.containsKey("--eval-tokens")) {
      throw new IllegalArgumentException("give either --eval-text or --eval-tokens, not both");
    }
    String method = values.getOrDefault("--method", "cbq").toLowerCase(Locale.ROOT);
    if (!method.equals("cbq")) {
      throw new IllegalArgumentException("the Spark job calibrates with --method cbq only, got '"
          + method + "'; round-to-nearest needs no calibration: run calibra quantize --method "
          + method + " (it takes the same --recipe files)");
    }
    values.putIfAbsent("--calib-samples", Integer.toString(DEFAULT_SAMPLES));
    CbqOptions calibration = CbqOptions.parse(values, "cbq");
    String output = values.getOrDefault("--output", DEFAULT_OUTPUT);
    String stem = output.endsWith(".arrow") ? output.substring(0, output.length() - 6) : output;
    return new CalibrateOptions(
        values.getOrDefault("--model", QuantizeOptions.DEFAULT_MODEL),
        calibration,
        new EvaluationSettings(values.get("--eval-text"),
            QuantizeOptions.parseLayout(values.getOrDefault("--text-layout", "paragraphs")),
            values.get("--eval-tokens"),
            QuantizeOptions.intOption(values, "--context", 0, 0),
            QuantizeOptions.intOption(values, "--windows", 40, 0)),
        calibration.recipe(new QuantizationScheme(
            QuantizeOptions.intOption(values, "--bits", 4, 1),
            QuantizationScheme.parseGroupSize(values.getOrDefault("--group", "128")))),
        schedule(values.getOrDefault("--schedule", "sequential")),
        Backends.Choice.parse(values.getOrDefault("--backend", "auto")),
        QuantizeOptions.intOption(values, "--slots", 0, 1),
        bytes(values.getOrDefault("--gpu-memory", "80g")),
        output,
        values.getOrDefault("--work-dir", stem + ".work"),
        values.getOrDefault("--summary", stem + ".summary.json"),
        values.containsKey("--overwrite"),
        values.getOrDefault("--master", DEFAULT_MASTER));
  }

  /** A mixed recipe's VQ part (--vq, --vq-candidates), or null when every layer is uniform. */
  public VqRecipe vqRecipe() {
    return calibration.vqRecipe();
  }

  /**
   * The calibration samples these options name, tokenized with the model's tokenizer, and those
   * the model writes itself when asked for ({@code progress} hears about those).
   */
  public CalibrationData calibrationData(ModelDirectory model, Consumer<String> progress)
      throws IOException {
    return CalibrationData.load(calibration, model, progress);
  }

  private static Schedule schedule(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "sequential" -> Schedule.SEQUENTIAL;
      case "parallel" -> Schedule.PARALLEL;
      default -> throw new IllegalArgumentException("--schedule must be sequential or parallel, got '"
          + text + "'");
    };
  }

  /** "80g", "512m", "1024": bytes, with k, m, g, t meaning powers of 1024. */
  static long bytes(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    int shift = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
      case 'k' -> 10;
      case 'm' -> 20;
      case 'g' -> 30;
      case 't' -> 40;
      default -> 0;
    };
    try {
      long value = Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1));
      if (value > 0) {
        return value << shift;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--gpu-memory must be a positive size such as 80g, got '"
        + text + "'");
  }
}
