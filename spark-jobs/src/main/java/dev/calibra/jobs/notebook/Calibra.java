package dev.calibra.jobs.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.jobs.cli.CalibraCli;
import dev.calibra.jobs.cli.CalibrateOptions;
import dev.calibra.jobs.cli.QuantizeOptions;
import dev.calibra.jobs.spark.CalibrateJobMain;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Calibra for notebooks: Zeppelin's {@code %spark} and spark-shell, in Scala. Each run takes the
 * arguments of the command line ({@code --recipe} files included), writes the same artifact and
 * returns it as a {@link QuantizedModel}; the tables are in Zeppelin's {@code %table} format,
 * which a plain shell prints as tab-separated text.
 *
 * <pre>
 * val cbq = Calibra.calibrate(sc, "--model", model, "--recipe", "recipes/cbq-w4g32.properties",
 *     "--output", "out/cbq.arrow")
 * println(Calibra.perplexityTable(cbq))
 * </pre>
 */
public final class Calibra {

  private Calibra() {}

  /** The model's architecture and size, e.g. "llama: 5 blocks, hidden 64, ...". */
  public static String describeModel(String model) throws IOException {
    try (ModelDirectory directory = ModelDirectory.open(model)) {
      LlamaConfig c = directory.config();
      return String.format(Locale.ROOT, "%s: %d blocks, hidden %d, MLP %d, %d query and %d "
          + "key-value heads, vocab %d, context %d", c.architecture(), c.numLayers(),
          c.hiddenSize(), c.intermediateSize(), c.numHeads(), c.numKeyValueHeads(),
          c.vocabSize(), c.maxPositions());
    }
  }

  /**
   * CBQ calibration on the notebook's Spark: the job of {@code calibra calibrate} and
   * spark-submit, with their arguments. The context stays open for the notebook.
   */
  public static QuantizedModel calibrate(SparkContext sc, String... args) throws IOException {
    CalibrateOptions options = CalibrateOptions.parse(args);
    JsonNode perplexity = CalibrateJobMain.runJob(JavaSparkContext.fromSparkContext(sc), options)
        .toJson().path("perplexity");
    return QuantizedModel.read(options.output()).withPerplexities(
        perplexity.path("quantized").asDouble(), perplexity.path("float").asDouble());
  }

  /**
   * {@code calibra quantize} in this JVM (the notebook's driver, no Spark tasks): round-to-nearest
   * or one-process CBQ. Needs {@code --output}, the artifact it returns.
   *
   * @throws IllegalStateException with the command's messages when it fails
   */
  public static QuantizedModel quantize(String... args) throws IOException {
    String output = QuantizeOptions.parse(args).output();
    if (output == null) {
      throw new IllegalArgumentException("quantize needs --output: the artifact it returns");
    }
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    String[] command = new String[args.length + 1];
    command[0] = "quantize";
    System.arraycopy(args, 0, command, 1, args.length);
    try (PrintStream stream = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      if (CalibraCli.run(command, stream, stream) != 0) {
        throw new IllegalStateException("calibra quantize failed:\n" + log.toString(
            StandardCharsets.UTF_8));
      }
    }
    return QuantizedModel.read(output);
  }

  /** One row per model: recipe, float and quantized perplexity, artifact and its size. */
  public static String perplexityTable(QuantizedModel... models) {
    StringBuilder table = new StringBuilder("%table recipe\tfloat perplexity\tquantized "
        + "perplexity\tartifact\tMB\n");
    for (QuantizedModel m : models) {
      table.append(String.format(Locale.ROOT, "%s\t%.4f\t%.4f\t%s\t%.2f%n", m.recipe(),
          m.floatPerplexity(), m.perplexity(), m.artifact(), m.bytes() / 1e6));
    }
    return table.toString();
  }

  /**
   * One row per linear layer, one column per model: the relative weight errors side by side.
   * The first model's layers name the rows; a layer another model lacks shows NaN.
   */
  public static String layerErrorTable(QuantizedModel... models) {
    StringBuilder table = new StringBuilder("%table block\tlayer");
    for (QuantizedModel m : models) {
      table.append('\t').append(m.recipe());
    }
    table.append('\n');
    for (QuantizedModel.LayerError row : models[0].layers()) {
      table.append(row.block()).append('\t').append(row.layer());
      for (QuantizedModel m : models) {
        table.append(String.format(Locale.ROOT, "\t%.4e",
            m.relativeError(row.block(), row.layer())));
      }
      table.append('\n');
    }
    return table.toString();
  }
}
