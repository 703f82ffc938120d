package dev.calibra.jobs.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.cbq.LayerQuantizerFactory;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.kernels.Backends;
import dev.calibra.kernels.cuda.CudaOptions;
import dev.calibra.kernels.cuda.MatmulPrecision;
import dev.calibra.jobs.artifact.QuantizedRunRecorder;
import dev.calibra.jobs.calibrate.JobSpec;
import dev.calibra.jobs.artifact.RunMetrics;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.eval.Perplexity;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.artifact.ArtifactWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * load → quantize (round-to-nearest, or CBQ calibration on the calibration samples) → evaluate,
 * once per requested scheme; prints progress and a final table.
 */
final class QuantizeCommand {

  private final QuantizeOptions options;
  private final PrintStream out;
  /** The float model's perplexity once measured, for the artifact's metrics. */
  private Double floatPerplexity;

  QuantizeCommand(QuantizeOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  void run() throws IOException {
    System.setProperty("calibra.cpu.threads", Integer.toString(options.threads()));
    CudaOptions cuda = CudaOptions.defaults()
        .withPrecision(MatmulPrecision.parse(options.gpuPrecision()));
    try (Backends.Selected backend = Backends.open(Backends.Choice.parse(options.backend()), cuda);
        ModelDirectory model = ModelDirectory.open(options.model())) {
      run(backend, model);
    }
  }

  private void run(Backends.Selected selected, ModelDirectory model) throws IOException {
    Backend backend = selected.backend();
    LlamaConfig config = model.config();
    out.printf(Locale.ROOT, "model %s: %s, %d blocks, hidden %d, %d/%d heads, vocab %d%n",
        model.location(), config.architecture(), config.numLayers(), config.hiddenSize(),
        config.numHeads(), config.numKeyValueHeads(), config.vocabSize());
    EvaluationData data = EvaluationData.load(options, model);
    out.printf(Locale.ROOT, "evaluation: %s, %d windows, %d predictions%n", data.description(),
        data.windows().size(), data.predictions());
    out.printf(Locale.ROOT, "backend %s, %d CPU threads%n", selected.description(), Parallel.threads());

    QuantizeReport report = new QuantizeReport();
    report.put("tool", "calibra quantize");
    report.put("started", Instant.now().toString());
    report.put("host", InetAddress.getLocalHost().getHostName());
    report.put("java", System.getProperty("java.version"));
    report.put("backend", backend.name());
    report.put("threads", Parallel.threads());
    report.put("model", modelFacts(model.location().toString(), config));
    report.put("evaluation", Map.of("source", data.description(), "windows", data.windows().size(),
        "predictions", data.predictions(), "context", data.contextLength()));
    report.put("quantize_lm_head", options.quantizeLmHead());

    if (!options.skipFloat()) {
      long start = System.nanoTime();
      Perplexity ppl = evaluate(backend, model.weights(), data, "float", null);
      double seconds = (System.nanoTime() - start) / 1e9;
      out.printf(Locale.ROOT, "float perplexity %.4f (%.1f s)%n", ppl.value(), seconds);
      report.floatResult(ppl.value(), seconds);
      floatPerplexity = ppl.value();
    }
    CalibrationData calibration = null;
    if (options.cbq() != null) {
      calibration = CalibrationData.load(options.cbq(), model, out::println);
      out.printf(Locale.ROOT, "calibration: %s%n", calibration.description());
      report.put("calibration", calibration.description());
    }
    for (QuantizationScheme scheme : options.schemes()) {
      report.add(quantizeAndEvaluate(backend, model, data, calibration, scheme));
    }
    out.println();
    out.print(report.table());
    Path reportPath = Path.of(options.report());
    report.write(reportPath);
    out.println("report written to " + reportPath.toAbsolutePath());
  }

  private QuantizeReport.Row quantizeAndEvaluate(Backend backend, ModelDirectory model,
      EvaluationData data, CalibrationData calibration, QuantizationScheme scheme)
      throws IOException {
    PeakHeap.reset();
    long start = System.nanoTime();
    CbqRecipe recipe = options.cbq() == null ? null : options.cbq().recipe(scheme);
    VqRecipe vq = options.cbq() == null ? null : options.cbq().vqRecipe();
    String label = options.method() + " " + (recipe == null ? scheme.label() : recipe.label())
        + (vq == null ? "" : " vq " + vq.label());
    long[] storedBits = new long[2]; // bits stored, weights quantized
    List<Map<String, Object>> layers = new ArrayList<>();
    // What the artifact's float tensors come from: the model as calibration sees it.
    LlamaWeightSource floatModel = recipe == null ? model.weights()
        : CbqCalibrator.modelToCalibrate(model.weights(), recipe);
    if (recipe != null && recipe.rotate()) {
      out.printf(Locale.ROOT, "[%s] the model is rotated first (seed %d): the same function, its "
          + "norms folded, its output projection a table of its own%n", label, recipe.seed());
    }
    try (QuantizedRunRecorder recorder = options.output() == null ? null
        : QuantizedRunRecorder.start(model, floatModel, options.method(), scheme,
            options.quantizeLmHead(), recipeDetails(recipe, vq), options.output(),
            options.overwrite(), backend)) {
      Consumer<QuantizedBlock> onBlock = block -> {
        layers.addAll(layerErrors(block));
        storedBits[0] += block.storedBits();
        storedBits[1] += block.quantizedWeights();
        if (recorder != null) {
          recorder.accept(block);
        }
      };
      LlamaWeightSource quantized;
      double calibrationSeconds = 0;
      if (recipe == null) {
        quantized = new QuantizedWeightSource(model.weights(), new RoundToNearest(scheme),
            options.quantizeLmHead() ? new RoundToNearest(scheme) : null, onBlock);
      } else {
        quantized = new CbqCalibrator(backend, recipe,
            vq == null ? LayerQuantizerFactory.NONE : vq, progress(label, onBlock))
            .calibrate(model.weights(), calibration.samples());
        calibrationSeconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "%s calibrated in %.1f s%n", label, calibrationSeconds);
      }
      Perplexity ppl = evaluate(backend, quantized, data, label, layers);
      double seconds = (System.nanoTime() - start) / 1e9;
      out.printf(Locale.ROOT, "%s perplexity %.4f (%.1f s), %.3f bits per weight with scales "
          + "and codebooks%n", label, ppl.value(), seconds,
          (double) storedBits[0] / Math.max(1, storedBits[1]));
      if (recorder != null) {
        out.println("artifact written to " + recorder.commit(RunMetrics.of(ppl, floatPerplexity,
            data.description(), data.windows().size(), data.contextLength(), layers)));
      }
      return new QuantizeReport.Row(options.method(), scheme.bits(), scheme.groupLabel(),
          recipe == null ? 0 : recipe.activationBits(), ppl.value(), ppl.predictions(),
          calibrationSeconds, seconds, PeakHeap.bytes(), layers);
    }
  }

  /** Prints a line per calibration window and hands each finished block on. */
  private CalibrationListener progress(String label, Consumer<QuantizedBlock> onBlock) {
    return new CalibrationListener() {
      @Override
      public void windowDone(WindowReport r) {
        out.printf(Locale.ROOT, "[%s] window %d/%d (blocks %d–%d): reconstruction error %.4g → "
            + "%.4g in %.1f s%s%n", label, r.index() + 1, r.windows(), r.firstBlock(),
            r.lastBlock(), r.losses().start(), r.losses().end(), r.seconds(),
            r.losses().keptStart() ? " (training made it worse: kept its start)" : "");
      }

      @Override
      public void blockDone(QuantizedBlock block) {
        onBlock.accept(block);
      }
    };
  }

  /**
   * What the artifact's recipe records beyond the scheme: activation bits, the CBQ recipe, and
   * for a mixed recipe its VQ rules and training ({@code vq}), in the Spark job's form, so that
   * an artifact's recipe reads the same whichever command made it.
   */
  private static ObjectNode recipeDetails(CbqRecipe recipe, VqRecipe vq) throws IOException {
    ObjectNode details = JsonNodeFactory.instance.objectNode();
    if (recipe != null) {
      details.put(ArtifactWeightSource.ACTIVATION_BITS, recipe.activationBits());
      details.set("cbq", JsonFiles.JSON.readTree(JobSpec.recipeToJson(recipe)));
    }
    if (vq != null) {
      details.set("vq", JsonFiles.JSON.readTree(JobSpec.vqToJson(vq)));
    }
    return details;
  }

  private Perplexity evaluate(Backend backend, LlamaWeightSource weights, EvaluationData data,
      String label, List<Map<String, Object>> layers) {
    LayerwiseRunner runner = new LayerwiseRunner(backend, options.batchTokens(),
        (index, total, nanos) -> out.printf(Locale.ROOT, "[%s] block %d/%d done in %.2f s%s%n",
            label, index + 1, total, nanos / 1e9, worstError(layers, index)));
    return new PerplexityEvaluator(runner).evaluate(weights, data.windows());
  }

  /** ", worst layer error …" for the progress line of a quantized block; empty for float. */
  private static String worstError(List<Map<String, Object>> layers, int block) {
    if (layers == null) {
      return "";
    }
    return layers.stream().filter(l -> (int) l.get("block") == block)
        .max((a, b) -> Double.compare((double) a.get("relative_error"), (double) b.get("relative_error")))
        .map(l -> String.format(Locale.ROOT, ", worst relative weight error %.2e (%s)",
            (double) l.get("relative_error"), l.get("layer")))
        .orElse("");
  }

  private static List<Map<String, Object>> layerErrors(QuantizedBlock block) {
    List<Map<String, Object>> rows = new ArrayList<>();
    block.relativeError().forEach((linear, error) -> {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("block", block.index());
      row.put("layer", linear.hfName());
      row.put("relative_error", error);
      rows.add(row);
    });
    return rows;
  }

  private static Map<String, Object> modelFacts(String location, LlamaConfig config) {
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("path", location);
    facts.put("architecture", config.architecture());
    facts.put("layers", config.numLayers());
    facts.put("hidden_size", config.hiddenSize());
    facts.put("intermediate_size", config.intermediateSize());
    facts.put("heads", Arrays.asList(config.numHeads(), config.numKeyValueHeads()));
    facts.put("vocab_size", config.vocabSize());
    return facts;
  }
}
