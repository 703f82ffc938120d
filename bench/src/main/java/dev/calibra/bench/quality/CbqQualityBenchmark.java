package dev.calibra.bench.quality;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.bench.ResultFile;
import dev.calibra.bench.SharedModelData;
import dev.calibra.bench.Table;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.kernels.Backends;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Entry {@code cbq-quality}: float, round-to-nearest and CBQ perplexity of each shared model at
 * W8/W4/W3/W2 (weights only) and W4A8, grouped and per-channel, with CBQ's calibration time, next
 * to the GPTQ numbers of shared/README.md and the targets of issue 3; then ablations of CBQ on one
 * scheme per model (no LoRA-Rounding, no pre-processing, windows of one block). CBQ runs its
 * default recipe on the model's calibration data; every row is evaluated on the evaluation data.
 *
 * <p>Arguments: model names (default: both shared models), each optionally followed by the
 * schemes to run, e.g. {@code bench/run cbq-quality stories260K dict-llama-15M:w4g128,w2g64};
 * the ablations run with all schemes, or when named as the W3 scheme plus {@code +ablations}
 * ({@code stories260K:w3g32+ablations}). The dict-llama-15M rows take most of the
 * time: about 15 minutes each on two free cores. A first argument {@code --backend cuda} (or
 * {@code auto}) runs everything on the GPU, with fp32 products so that the numbers stay those of
 * the CPU backend (the GPU parity run measured 1e-4 relative on dict-llama-15M) while the rows
 * take seconds instead of minutes. {@code --recipe JSON} (after {@code --backend}, if any) sets
 * fields of every row's recipe, e.g. {@code --recipe '{"epochs": 8, "loraRank": 32}'}, to try
 * other settings against the same table. {@code --calib-samples K} keeps the first K of the
 * shared calibration samples, {@code --calib-generated N} adds N of the same length that the
 * float model writes itself (seeded by the recipe's seed; see calibration/CBQ.md, "Calibration
 * data"); results then go to {@code cbq-quality-generated-<model>.json}. {@code --calib-source
 * heldout} calibrates a text model on held-out text past its evaluated windows instead
 * ({@link SharedModelData#withHeldOutCalibration}, a diagnostic outside the shared protocol;
 * {@code cbq-quality-heldout-calibration-<model>.json}), {@code --calib-source first-windows} on
 * the first windows of its calibration text rather than windows spread over all of it
 * ({@code cbq-quality-first-windows-<model>.json}). {@code --eval-generated N} evaluates on N
 * samples the float model writes itself instead of the evaluation data (seed 99; for
 * stories260K a replica of its evaluation split, to check choices made by looking at that split;
 * {@code ...-generated-evaluation-<model>.json}).
 */
public final class CbqQualityBenchmark {

  private static final String ENTRY = "cbq-quality";
  /** Seed of {@code --eval-generated}'s samples: one no calibration here draws with. */
  private static final long EVALUATION_SEED = 99;

  /** A scheme of the table: weight bits and group, and activation bits (0: float). */
  record Scheme(int bits, int group, int activationBits) {
    QuantizationScheme weights() {
      return new QuantizationScheme(bits, group);
    }

    String label() {
      return weights().label() + (activationBits > 0 ? " a" + activationBits : "");
    }

    /** "w4g128", "w4pc", "w4a8g128": how the command line names a scheme. */
    String compactLabel() {
      return "w" + bits + (activationBits > 0 ? "a" + activationBits : "")
          + (group == QuantizationScheme.PER_CHANNEL ? "pc" : "g" + group);
    }
  }

  /** An ablation: a name and what it changes in the default recipe. */
  record Ablation(String name, UnaryOperator<CbqRecipe.Builder> change) {}

  private static final List<Ablation> ABLATIONS = List.of(
      new Ablation("no LoRA-Rounding", b -> b.loraRank(0)),
      new Ablation("no CFP", b -> b.preprocessing(false, false)),
      new Ablation("w=1 o=0", b -> b.window(1, 0)),
      new Ablation("no end-to-end pass", b -> b.endToEnd(0, 0f)),
      new Ablation("+ channel-scale search", b -> b.searchChannelScales(true)));

  record Results(String entry, String measuredAt, String backend, int threads,
      List<ModelResult> models) {}

  record ModelResult(String model, double floatPerplexity, long predictions,
      String calibration, String evaluation, List<QualityRow> rows) {

    /** The rows without GPTQ's numbers and the targets, for evaluation data of another kind. */
    ModelResult withoutBaselines() {
      return new ModelResult(model, floatPerplexity, predictions, calibration, evaluation,
          rows.stream().map(r -> new QualityRow(r.model(), r.scheme(), r.variant(), r.rtn(),
              r.cbq(), r.calibrationSeconds(), null, null)).toList());
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private CbqQualityBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<String> arguments = new ArrayList<>(List.of(args));
    try (Backends.Selected selected = QualityBackend.open(arguments)) {
      // Recipe fields set by --recipe; empty when the defaults run.
      ObjectNode overrides = JSON.createObjectNode();
      Integer keptSamples = null;
      int generated = 0;
      int generatedEvaluation = 0;
      CalibrationSource source = CalibrationSource.CALIBRATION;
      while (arguments.size() >= 2 && arguments.get(0).startsWith("--")) {
        String value = arguments.get(1);
        switch (arguments.get(0)) {
          case "--recipe" -> overrides = (ObjectNode) JSON.readTree(value);
          case "--calib-samples" -> keptSamples = Integer.parseInt(value);
          case "--calib-generated" -> generated = Integer.parseInt(value);
          case "--eval-generated" -> generatedEvaluation = Integer.parseInt(value);
          case "--calib-source" -> source = CalibrationSource.parse(value);
          default -> throw new IllegalArgumentException("unknown option " + arguments.get(0));
        }
        arguments.subList(0, 2).clear();
      }
      List<String> models = arguments.isEmpty() ? List.of("stories260K", "dict-llama-15M")
          : arguments;
      Path shared = SharedModelData.modelsFolder();
      if (source != CalibrationSource.CALIBRATION && (generated > 0 || keptSamples != null)) {
        throw new IllegalArgumentException("--calib-source " + source.option
            + " takes no --calib-samples or --calib-generated");
      }
      // Other calibration data gets result files of its own: the main table stays the shared
      // data's.
      String entry = (generated > 0 ? ENTRY + "-generated" : source.entry(ENTRY))
          + (generatedEvaluation > 0 ? "-generated-evaluation" : "");
      for (String argument : models) {
        String[] nameAndSchemes = argument.split(":", 2);
        List<String> only = nameAndSchemes.length > 1
            ? List.of(nameAndSchemes[1].split(",")) : List.of();
        // One file per model, so that models measured in separate runs keep their results;
        // rewritten after every row, so that a run cut short keeps the rows it finished.
        // GPTQ's numbers and the targets belong to the shared evaluation data only.
        boolean sharedEvaluation = generatedEvaluation == 0;
        RowSink write = partial -> ResultFile.write(entry + "-" + partial.model(),
            new Results(entry, Instant.now().toString(), selected.description(),
                Parallel.threads(),
                List.of(sharedEvaluation ? partial : partial.withoutBaselines())));
        SharedModelData data = source.apply(
            SharedModelData.load(shared.resolve(nameAndSchemes[0])));
        if (keptSamples != null || generated > 0) {
          data = data.withCalibration(
              keptSamples == null ? data.calibration().size() : keptSamples, generated,
              overrides.path("seed").asLong(0));
        }
        if (generatedEvaluation > 0) {
          data = data.withGeneratedEvaluation(generatedEvaluation, EVALUATION_SEED);
        }
        ModelResult result = run(selected.backend(), data, only, overrides, write);
        print(sharedEvaluation ? result : result.withoutBaselines());
        System.out.println("Results written to " + write.accept(result));
      }
    }
  }

  /** The schemes of a model: group 128 where rows are at least that long, else 32. */
  private static List<Scheme> schemes(String model, int shortestRow) {
    int group = shortestRow >= 128 ? 128 : 32;
    List<Scheme> schemes = new ArrayList<>(List.of(new Scheme(8, group, 0),
        new Scheme(4, group, 0), new Scheme(3, group, 0), new Scheme(2, group, 0),
        new Scheme(4, group, 8), new Scheme(4, QuantizationScheme.PER_CHANNEL, 0)));
    if (model.equals("dict-llama-15M")) {
      schemes.add(new Scheme(2, 64, 0)); // issue 3's W2 bar is at group 64
    } else {
      schemes.add(new Scheme(3, QuantizationScheme.PER_CHANNEL, 0));
    }
    return schemes;
  }

  /** {@code only}: compact scheme labels to run ("w4g128", "w4pc", "w4a8g128"), or all if empty. */
  /** Where the rows finished so far go. */
  private interface RowSink {
    Path accept(ModelResult soFar) throws Exception;
  }

  private static ModelResult run(Backend backend, SharedModelData data, List<String> only,
      ObjectNode overrides, RowSink sink) throws Exception {
    try (ModelDirectory model = ModelDirectory.open(data.directory().toString())) {
      LlamaWeightSource weights = model.weights();
      int shortestRow = Math.min(model.config().hiddenSize(), model.config().queryWidth());
      double floatPerplexity = perplexity(backend, weights, data);
      System.err.printf(Locale.ROOT, "%s: float %.3f%n", data.name(), floatPerplexity);
      List<QualityRow> rows = new ArrayList<>();
      List<Scheme> schemes = schemes(data.name(), shortestRow);
      Scheme ablated = schemes.get(2); // W3: where every part has the most to do
      for (Scheme scheme : schemes) {
        if (only.isEmpty() || only.contains(scheme.compactLabel())) {
          rows.add(row(backend, weights, data, scheme, "scheme", b -> b, overrides,
              floatPerplexity));
          sink.accept(result(data, floatPerplexity, rows));
        }
      }
      if (only.isEmpty() || only.contains(ablated.compactLabel() + "+ablations")) {
        for (Ablation ablation : ABLATIONS) {
          rows.add(row(backend, weights, data, ablated, ablation.name(), ablation.change(),
              overrides, floatPerplexity));
          sink.accept(result(data, floatPerplexity, rows));
        }
      }
      return result(data, floatPerplexity, rows);
    }
  }

  private static ModelResult result(SharedModelData data, double floatPerplexity,
      List<QualityRow> rows) {
    long predictions = data.evaluation().stream().mapToLong(w -> w.length - 1).sum();
    return new ModelResult(data.name(), floatPerplexity, predictions,
        data.calibrationDescription(), data.evaluationDescription(), List.copyOf(rows));
  }

  private static QualityRow row(Backend backend, LlamaWeightSource weights,
      SharedModelData data, Scheme scheme, String variant, UnaryOperator<CbqRecipe.Builder> change,
      ObjectNode overrides, double floatPerplexity) throws Exception {
    double rtn = perplexity(backend, new QuantizedWeightSource(weights,
        new RoundToNearest(scheme.weights()), null, b -> { }, scheme.activationBits()), data);
    CbqRecipe recipe = change.apply(CbqRecipe.defaults(scheme.weights()).toBuilder()
        .activations(scheme.activationBits(), CbqRecipe.defaults(scheme.weights()).dropProbability()))
        .build();
    if (!overrides.isEmpty()) {
      ObjectNode fields = JSON.valueToTree(recipe);
      fields.setAll(overrides);
      recipe = JSON.treeToValue(fields, CbqRecipe.class);
      variant = variant + " " + overrides;
    }
    long start = System.nanoTime();
    LlamaWeightSource calibrated = new CbqCalibrator(backend, recipe, progress(data.name(), scheme))
        .calibrate(weights, data.calibration());
    double seconds = (System.nanoTime() - start) / 1e9;
    double cbq = perplexity(backend, calibrated, data);
    System.err.printf(Locale.ROOT, "%s %s %s: RTN %.3f, CBQ %.3f (%.0f s)%n", data.name(),
        scheme.label(), variant, rtn, cbq, seconds);
    String weightLabel = scheme.weights().label();
    boolean main = variant.startsWith("scheme") && scheme.activationBits() == 0;
    return new QualityRow(data.name(), scheme.label(), variant, rtn, cbq, seconds,
        scheme.activationBits() == 0 ? Baselines.gptq(data.name(), weightLabel) : null,
        main ? Baselines.target(data.name(), weightLabel, floatPerplexity) : null);
  }

  private static CalibrationListener progress(String model, Scheme scheme) {
    return new CalibrationListener() {
      @Override
      public void windowDone(WindowReport r) {
        System.err.printf(Locale.ROOT, "  %s %s window %d/%d: %.4f → %.4f (%.0f s)%n", model,
            scheme.label(), r.index() + 1, r.windows(), r.losses().start(), r.losses().end(),
            r.seconds());
      }

      @Override
      public void blockDone(QuantizedBlock block) {}
    };
  }

  private static double perplexity(Backend backend, LlamaWeightSource weights,
      SharedModelData data) {
    return new PerplexityEvaluator(new LayerwiseRunner(backend, 8192, (i, n, t) -> { }))
        .evaluate(weights, data.evaluation()).value();
  }

  private static void print(ModelResult result) {
    System.out.printf(Locale.ROOT, "%n%s: float perplexity %.3f (%d predictions); CBQ calibrated "
        + "on %s%n", result.model(), result.floatPerplexity(), result.predictions(),
        result.calibration());
    Table table = new Table("scheme", "variant", "RTN", "GPTQ", "CBQ", "target", "met",
        "calib s");
    for (QualityRow r : result.rows()) {
      table.row(r.scheme(), r.variant(), format(r.rtn()), r.gptq() == null ? "-" : format(r.gptq()),
          format(r.cbq()), r.target() == null ? "-" : format(r.target()),
          r.target() == null ? "-" : r.cbq() <= r.target() ? "yes" : "no",
          String.format(Locale.ROOT, "%.0f", r.calibrationSeconds()));
    }
    table.print(System.out);
  }

  private static String format(double perplexity) {
    return String.format(Locale.ROOT, perplexity < 1000 ? "%.2f" : "%.0f", perplexity);
  }
}
