package dev.calibra.bench.quality;

import dev.calibra.bench.ResultFile;
import dev.calibra.bench.SharedModelData;
import dev.calibra.bench.Table;
import dev.calibra.calibration.gptq.GptqQuantizer;
import dev.calibra.kernels.Backends;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Entry {@code gptq-baselines}: Calibra's GPTQ ({@link GptqQuantizer}) at every row of the GPTQ
 * column of shared/README.md, calibrated and evaluated on the same data as CBQ, next to the
 * PyTorch number there; where the reference ran on exactly these samples (stories260K's token
 * splits) each must match within 1%. That makes it the baseline CBQ is compared with on other
 * calibration data: {@code --calib-source heldout} calibrates a text model on held-out text past
 * its evaluated windows instead, {@code --calib-source first-windows} on the first windows of its
 * calibration text, as {@code cbq-quality} does ({@code gptq-baselines-<source>.json}, no
 * reference numbers). Arguments: an optional leading {@code --backend cuda}, then
 * {@code --calib-source}, then model names (default both).
 */
public final class GptqBaselinesBenchmark {

  private static final String ENTRY = "gptq-baselines";
  private static final double TOLERANCE = 0.01;

  /**
   * @param reference shared/README.md's perplexity, or null on other calibration data
   * @param differencePercent against the reference, or null
   * @param withinTolerance null where the reference's samples are not known to be these
   */
  record Row(String model, String scheme, String calibration, double perplexity,
      Double reference, Double differencePercent, Boolean withinTolerance, double seconds) {}

  record Results(String entry, String measuredAt, String backend, double tolerancePercent,
      List<Row> rows) {}

  private GptqBaselinesBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<String> arguments = new ArrayList<>(List.of(args));
    try (Backends.Selected selected = QualityBackend.open(arguments)) {
      CalibrationSource source = CalibrationSource.CALIBRATION;
      if (arguments.size() >= 2 && arguments.get(0).equals("--calib-source")) {
        source = CalibrationSource.parse(arguments.get(1));
        arguments.subList(0, 2).clear();
      }
      List<String> models = arguments.isEmpty() ? List.of("stories260K", "dict-llama-15M")
          : arguments;
      String entry = source.entry(ENTRY);
      Path shared = SharedModelData.modelsFolder();
      List<Row> rows = new ArrayList<>();
      for (String name : models) {
        SharedModelData data = source.apply(SharedModelData.load(shared.resolve(name)));
        try (ModelDirectory model = ModelDirectory.open(data.directory().toString())) {
          for (Baselines.Gptq baseline : Baselines.GPTQ) {
            if (baseline.model().equals(name)) {
              rows.add(measure(selected.backend(), model.weights(), data, baseline,
                  source == CalibrationSource.CALIBRATION));
              ResultFile.write(entry, new Results(entry, Instant.now().toString(),
                  selected.description(), 100 * TOLERANCE, rows));
            }
          }
        }
      }
      print(rows);
      System.out.println("Results written to " + ResultFile.write(entry, new Results(entry,
          Instant.now().toString(), selected.description(), 100 * TOLERANCE, rows)));
    }
  }

  private static Row measure(Backend backend, LlamaWeightSource weights, SharedModelData data,
      Baselines.Gptq baseline, boolean sharedData) {
    long start = System.nanoTime();
    LlamaWeightSource quantized = new GptqQuantizer(backend, baseline.scheme(), b -> { })
        .quantize(weights, data.calibration());
    double seconds = (System.nanoTime() - start) / 1e9;
    double perplexity = new PerplexityEvaluator(new LayerwiseRunner(backend, 8192,
        (i, n, t) -> { })).evaluate(quantized, data.evaluation()).value();
    Double reference = sharedData ? baseline.perplexity() : null;
    Double difference = sharedData ? 100 * (perplexity / reference - 1) : null;
    Boolean within = sharedData && baseline.samplesKnown()
        ? Math.abs(difference) <= 100 * TOLERANCE : null;
    System.err.printf(Locale.ROOT, "%s %s: GPTQ %.3f%s (%.0f s)%n", data.name(),
        baseline.scheme().label(), perplexity,
        sharedData ? String.format(Locale.ROOT, ", %+.3f%% from the reference", difference) : "",
        seconds);
    return new Row(data.name(), baseline.scheme().label(), data.calibrationDescription(),
        perplexity, reference, difference, within, seconds);
  }

  private static void print(List<Row> rows) {
    Table table = new Table("model", "scheme", "GPTQ", "reference", "difference", "within 1%",
        "seconds");
    for (Row r : rows) {
      table.row(r.model(), r.scheme(), String.format(Locale.ROOT, "%.3f", r.perplexity()),
          r.reference() == null ? "-" : String.format(Locale.ROOT, "%.3f", r.reference()),
          r.differencePercent() == null ? "-"
              : String.format(Locale.ROOT, "%+.3f%%", r.differencePercent()),
          r.withinTolerance() == null ? "-" : r.withinTolerance() ? "yes" : "NO",
          String.format(Locale.ROOT, "%.1f", r.seconds()));
    }
    table.print(System.out);
  }
}
