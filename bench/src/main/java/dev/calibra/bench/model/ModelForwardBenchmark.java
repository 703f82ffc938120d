package dev.calibra.bench.model;

import dev.calibra.bench.BestTime;
import dev.calibra.bench.ResultFile;
import dev.calibra.bench.SharedModelData;
import dev.calibra.bench.Table;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Entry {@code model-forward}: full-model forward throughput on the CPU backend, in tokens per
 * second, for each shared model: embeddings, every block, final norm and the logits of every
 * position, over its first evaluation windows (8 sequences, batched), best of several rounds
 * after warm-up. Model loading is not timed.
 */
public final class ModelForwardBenchmark {

  private static final String ENTRY = "model-forward";
  private static final int SEQUENCES = 8;
  private static final int ROUNDS = 3;

  record Row(String model, int sequences, int tokensPerSequence, double secondsPerPass,
      double tokensPerSecond, long parameters) {}

  record Results(String entry, String measuredAt, int threads, List<Row> rows) {}

  private ModelForwardBenchmark() {}

  private static long parameters(ModelDirectory model) throws java.io.IOException {
    long total = 0;
    for (String name : model.checkpoint().tensorNames()) {
      total += model.checkpoint().tensor(name).elementCount();
    }
    return total;
  }

  public static void main(String[] args) throws Exception {
    Path shared = SharedModelData.modelsFolder();
    CpuBackend backend = new CpuBackend();
    List<Row> rows = new ArrayList<>();
    for (String name : List.of("stories260K", "dict-llama-15M")) {
      SharedModelData data = SharedModelData.load(shared.resolve(name));
      List<int[]> inputs = new ArrayList<>();
      for (int[] window : data.evaluation().subList(0, SEQUENCES)) {
        inputs.add(java.util.Arrays.copyOf(window, window.length - 1));
      }
      try (ModelDirectory model = ModelDirectory.open(data.directory().toString())) {
        LayerwiseRunner runner = new LayerwiseRunner(backend, 8192, (i, n, t) -> { });
        Runnable pass = () -> runner.run(model.weights(), inputs, (s, p, logits) -> { });
        // Warm-up (JIT, and the page cache of the memory-mapped weights) for two seconds.
        double seconds = BestTime.secondsPerCall(pass, 2.0, ROUNDS, 0.5);
        int tokens = inputs.stream().mapToInt(s -> s.length).sum();
        long parameters = parameters(model);
        rows.add(new Row(name, inputs.size(), inputs.get(0).length, seconds, tokens / seconds,
            parameters));
      }
    }
    Table table = new Table("model", "parameters", "sequences × tokens", "seconds/pass",
        "tokens/s");
    for (Row r : rows) {
      table.row(r.model(), String.format(Locale.ROOT, "%,d", r.parameters()),
          r.sequences() + " × " + r.tokensPerSequence(),
          String.format(Locale.ROOT, "%.3f", r.secondsPerPass()),
          String.format(Locale.ROOT, "%.0f", r.tokensPerSecond()));
    }
    System.out.println("CPU backend, " + Parallel.threads() + " threads");
    table.print(System.out);
    System.out.println("Results written to " + ResultFile.write(ENTRY,
        new Results(ENTRY, Instant.now().toString(), Parallel.threads(), rows)));
  }
}
