package dev.calibra.bench.quality;

import dev.calibra.bench.ResultFile;
import dev.calibra.bench.SharedModelData;
import dev.calibra.bench.Table;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.cbq.LayerQuantizerFactory;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.kernels.Backends;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Entry {@code vq-quality}: vector quantization at about 2 bits per weight against uniform W2 g64,
 * all calibrated by CBQ in the same windows with the same recipe, on the shared models. Each row
 * gives the bits per weight the quantized layers take stored with their overhead (uniform: a
 * float16 scale and a 2-bit zero point per group, as GPTQ stores them; VQ: float16 codebooks,
 * one per layer or per group of rows, and float16 row scales), the perplexity, the calibration
 * time and how many windows ended where they started (training made them worse, so they kept
 * their start).
 *
 * <p>Arguments: {@code MODEL:RULES;RULES;…}, each RULES a {@code --vq} value (e.g.
 * {@code stories260K:*:d2k4;mlp.*:d2k4}); the uniform W2 g64 row always runs first, and the
 * first rule runs once more untrained (0 epochs: k-means codebooks, nearest codewords). Without
 * arguments, the rows of bench/README.md. Every row runs CBQ's default recipe for one epoch (the
 * default is four) on 16384 calibration tokens (dict-llama-15M: 32 of its 128 samples), so that
 * a row takes minutes on two cores rather than a quarter of an hour. Leading options: {@code
 * --backend cuda} runs everything on the GPU (fp32 products, the CPU's numbers to about 1e-4),
 * and {@code --full} runs CBQ's default recipe as it is (four epochs, every calibration sample).
 */
public final class VqQualityBenchmark {

  private static final String ENTRY = "vq-quality";
  private static final QuantizationScheme UNIFORM = new QuantizationScheme(2, 64);
  /** Calibration tokens per model: stories260K's 64 samples of 256, 32 of dict-llama-15M's 512. */
  private static final int CALIBRATION_TOKENS = 16384;
  private static final List<String> DEFAULTS = List.of(
      "stories260K:*:d4k6-unscaled;*:d2k4;mlp.*:d2k4",
      "dict-llama-15M:*:d4k8;*:d8k9;mlp.*:d4k8;*:d4k8r288;*:d4k7;*:d4k7r96");

  /** One row: the VQ rules (empty: uniform W2 g64 only) and what came of them. */
  record Row(String vq, double bitsPerWeight, double perplexity, double calibrationSeconds,
      int windows, int windowsKeptStart) {}

  record ModelResult(String model, double floatPerplexity, String calibration, String recipe,
      List<Row> rows) {}

  record Results(String entry, String measuredAt, String backend, int threads,
      ModelResult result) {}

  private VqQualityBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<String> arguments = new ArrayList<>(List.of(args));
    try (Backends.Selected selected = QualityBackend.open(arguments)) {
      boolean full = !arguments.isEmpty() && arguments.get(0).equals("--full");
      if (full) {
        arguments.remove(0);
      }
      for (String argument : arguments.isEmpty() ? DEFAULTS : arguments) {
        int colon = argument.indexOf(':');
        String model = colon < 0 ? argument : argument.substring(0, colon);
        List<String> rules = colon < 0 ? List.of()
            : List.of(argument.substring(colon + 1).split(";"));
        ModelResult result = run(selected.backend(),
            SharedModelData.load(SharedModelData.modelsFolder().resolve(model)), rules, full);
        print(result);
        System.out.println("results written to " + ResultFile.write(
            ENTRY + "-" + model + (full ? "-default-recipe" : ""), new Results(ENTRY,
                Instant.now().toString(), selected.description(), Parallel.threads(), result)));
      }
    }
  }

  private static ModelResult run(Backend backend, SharedModelData data, List<String> rules,
      boolean full) throws Exception {
    int samples = full ? data.calibration().size() : Math.min(data.calibration().size(),
        CALIBRATION_TOKENS / data.calibration().get(0).length);
    SharedModelData calibrationData = data.withCalibration(samples, 0, 0);
    CbqRecipe recipe = full ? CbqRecipe.defaults(UNIFORM)
        : CbqRecipe.defaults(UNIFORM).toBuilder().epochs(1).build();
    try (ModelDirectory model = ModelDirectory.open(data.directory().toString())) {
      LlamaWeightSource weights = model.weights();
      double floatPerplexity = perplexity(backend, weights, data);
      List<Row> rows = new ArrayList<>();
      List<String> all = new ArrayList<>();
      all.add("");
      all.addAll(rules);
      for (String rule : all) {
        rows.add(row(backend, weights, data, calibrationData, recipe, rule, ""));
      }
      if (!rules.isEmpty()) {
        // The first rule again without training (no windows, no end-to-end pass): its fitted
        // codebooks with every sub-vector on its nearest codeword, what assignment calibration
        // starts from.
        rows.add(row(backend, weights, data, calibrationData,
            recipe.toBuilder().epochs(0).endToEnd(0, 0f).build(), rules.get(0),
            " (k-means, nearest codewords, no training)"));
      }
      return new ModelResult(data.name(), floatPerplexity,
          calibrationData.calibrationDescription(), recipe.label() + ", "
          + recipe.epochs() + " epochs", rows);
    }
  }

  private static Row row(Backend backend, LlamaWeightSource weights, SharedModelData data,
      SharedModelData calibrationData, CbqRecipe recipe, String rules, String note) {
    LayerQuantizerFactory layers = rules.isEmpty() ? LayerQuantizerFactory.NONE
        : VqRecipe.parse(rules);
    long[] stored = new long[2];
    int[] windows = new int[2];
    String label = (rules.isEmpty() ? "uniform " + UNIFORM.label()
        : rules.startsWith("*:") ? "vq " + rules
        : "vq " + rules + ", others uniform " + UNIFORM.label()) + note;
    CalibrationListener listener = new CalibrationListener() {
      @Override
      public void windowDone(WindowReport r) {
        windows[0]++;
        windows[1] += r.losses().keptStart() ? 1 : 0;
        System.err.printf(Locale.ROOT, "  %s %s window %d/%d: %.4f → %.4f%s (%.0f s)%n",
            data.name(), label, r.index() + 1, r.windows(), r.losses().start(), r.losses().end(),
            r.losses().keptStart() ? " (kept its start)" : "", r.seconds());
      }

      @Override
      public void blockDone(QuantizedBlock block) {
        stored[0] += block.storedBits();
        stored[1] += block.quantizedWeights();
      }
    };
    long start = System.nanoTime();
    LlamaWeightSource calibrated = new CbqCalibrator(backend, recipe, layers, listener)
        .calibrate(weights, calibrationData.calibration());
    double seconds = (System.nanoTime() - start) / 1e9;
    double perplexity = perplexity(backend, calibrated, data);
    double bits = (double) stored[0] / stored[1];
    System.err.printf(Locale.ROOT, "%s %s: %.3f bits/weight, perplexity %.3f (%.0f s)%n",
        data.name(), label, bits, perplexity, seconds);
    return new Row(label, bits, perplexity, seconds, windows[0], windows[1]);
  }

  private static double perplexity(Backend backend, LlamaWeightSource weights,
      SharedModelData data) {
    return new PerplexityEvaluator(new LayerwiseRunner(backend, 8192, (i, n, t) -> { }))
        .evaluate(weights, data.evaluation()).value();
  }

  private static void print(ModelResult result) {
    System.out.printf(Locale.ROOT, "%n%s: float perplexity %.3f; CBQ %s on %s%n", result.model(),
        result.floatPerplexity(), result.recipe(), result.calibration());
    Table table = new Table("layers", "bits/weight", "perplexity", "calib s", "windows kept start");
    for (Row r : result.rows()) {
      table.row(r.vq(), String.format(Locale.ROOT, "%.3f", r.bitsPerWeight()),
          String.format(Locale.ROOT, "%.2f", r.perplexity()),
          String.format(Locale.ROOT, "%.0f", r.calibrationSeconds()),
          r.windowsKeptStart() + "/" + r.windows());
    }
    table.print(System.out);
  }
}
