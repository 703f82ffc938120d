package dev.calibra.bench.model;

import dev.calibra.bench.ResultFile;
import dev.calibra.bench.SharedModelData;
import dev.calibra.bench.Table;
import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.cpu.CpuBackend;
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
 * Entry {@code rtn-baselines}: round-to-nearest perplexity at every bit width and group size of
 * the baseline tables in shared/README.md, for both shared models on their evaluation data, next
 * to the PyTorch numbers there; each must match within 1%.
 */
public final class RtnBaselinesBenchmark {

  private static final String ENTRY = "rtn-baselines";
  private static final double TOLERANCE = 0.01;
  private static final int PC = QuantizationScheme.PER_CHANNEL;

  /** A row of shared/README.md's RTN column. */
  record Baseline(String model, int bits, int group, double reference) {}

  private static final List<Baseline> BASELINES = List.of(
      new Baseline("stories260K", 8, 32, 18.167), new Baseline("stories260K", 8, PC, 18.366),
      new Baseline("stories260K", 4, 32, 156.59), new Baseline("stories260K", 4, PC, 269.18),
      new Baseline("stories260K", 3, 32, 1283.5), new Baseline("stories260K", 3, PC, 2043.5),
      new Baseline("stories260K", 2, 32, 10501), new Baseline("stories260K", 2, PC, 18646),
      new Baseline("dict-llama-15M", 8, 128, 85.069), new Baseline("dict-llama-15M", 4, 128, 87.909),
      new Baseline("dict-llama-15M", 4, 32, 86.865), new Baseline("dict-llama-15M", 4, PC, 89.893),
      new Baseline("dict-llama-15M", 3, 128, 94.794), new Baseline("dict-llama-15M", 3, 32, 90.397),
      new Baseline("dict-llama-15M", 2, 64, 188.01), new Baseline("dict-llama-15M", 2, 32, 173.46));

  /** The float rows of the tables. */
  private static final List<Baseline> FLOATS = List.of(
      new Baseline("stories260K", 32, 0, 17.857), new Baseline("dict-llama-15M", 32, 0, 85.109));

  record Row(String model, String scheme, double perplexity, double reference,
      double differencePercent, boolean withinTolerance, double seconds) {}

  record Results(String entry, String measuredAt, double tolerancePercent, List<Row> rows) {}

  private RtnBaselinesBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path shared = SharedModelData.modelsFolder();
    CpuBackend backend = new CpuBackend();
    List<Row> rows = new ArrayList<>();
    for (Baseline f : FLOATS) {
      SharedModelData data = SharedModelData.load(shared.resolve(f.model()));
      try (ModelDirectory model = ModelDirectory.open(data.directory().toString())) {
        rows.add(measure(f, "float", model.weights(), data, backend));
        for (Baseline b : BASELINES) {
          if (b.model().equals(f.model())) {
            QuantizationScheme scheme = new QuantizationScheme(b.bits(), b.group());
            rows.add(measure(b, scheme.label(), new QuantizedWeightSource(model.weights(),
                new RoundToNearest(scheme), null, q -> { }), data, backend));
          }
        }
      }
    }
    Table table = new Table("model", "scheme", "perplexity", "reference", "difference", "within 1%",
        "seconds");
    for (Row r : rows) {
      table.row(r.model(), r.scheme(), String.format(Locale.ROOT, "%.3f", r.perplexity()),
          String.format(Locale.ROOT, "%.3f", r.reference()),
          String.format(Locale.ROOT, "%+.3f%%", r.differencePercent()),
          r.withinTolerance() ? "yes" : "NO", String.format(Locale.ROOT, "%.1f", r.seconds()));
    }
    table.print(System.out);
    System.out.println("Results written to " + ResultFile.write(ENTRY, new Results(ENTRY,
        Instant.now().toString(), 100 * TOLERANCE, rows)));
  }

  private static Row measure(Baseline b, String scheme, LlamaWeightSource weights,
      SharedModelData data, CpuBackend backend) {
    long start = System.nanoTime();
    double ppl = new PerplexityEvaluator(new LayerwiseRunner(backend, 8192, (i, n, t) -> { }))
        .evaluate(weights, data.evaluation()).value();
    double difference = 100 * (ppl / b.reference() - 1);
    System.err.printf(Locale.ROOT, "%s %s: %.3f (%+.3f%%)%n", b.model(), scheme, ppl, difference);
    return new Row(b.model(), scheme, ppl, b.reference(), difference,
        Math.abs(difference) <= 100 * TOLERANCE, (System.nanoTime() - start) / 1e9);
  }
}
