package dev.calibra.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.bench.cuda.RandomFill;
import dev.calibra.calibration.vq.CodebookFitter;
import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.kernels.cuda.CudaOptions;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;

/**
 * Entry {@code vq-fit}: weighted k-means codebook fitting of one LLaMA-7B MLP layer on the GPU
 * (4096 × 11008, sub-vectors of 8, 2^16 codewords: 2 bits per weight, 20 Lloyd iterations),
 * next to the PyTorch implementation of the same iterations ({@code bench/cuda/vq_torch_reference.py}:
 * torch.cdist + argmin + index_add_) on the same GPU. Both fit random uniform weights with channel
 * weights in [0.5, 1.5]. Compared: the Lloyd iterations (ours: 21 assignments and 20 updates, the
 * reference 20 of each after an untimed warm-up assignment); our k-means++ seeding (65536
 * sequential draws, which the reference replaces by a random choice) is reported apart. Needs a
 * GPU.
 *
 * <pre>VqFitBenchmark [--torch torch.json] [ROWS COLS DIM INDEX_BITS ITERATIONS]</pre>
 */
public final class VqFitBenchmark {

  private static final String ENTRY = "vq-fit";

  record Results(String entry, String measuredAt, String device, int rows, int cols, int dim,
      int indexBits, int iterations, double seedingSeconds, double lloydSeconds,
      double lloydSecondsPerIteration, double firstObjective, double finalObjective,
      Double torchSeconds, Double torchFinalObjective, Double ratioToTorch) {}

  private VqFitBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path torchFile = null;
    int[] shape = {4096, 11008, 8, 16, 20};
    int positional = 0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--torch")) {
        torchFile = Path.of(args[++i]);
      } else {
        shape[positional++] = Integer.parseInt(args[i]);
      }
    }
    int rows = shape[0];
    int cols = shape[1];
    int dim = shape[2];
    int bits = shape[3];
    int iterations = shape[4];
    float[] weight = RandomFill.uniform(rows * cols, 1, 1);
    float[] channelWeights = RandomFill.uniform(cols, 2, 0.5);
    for (int c = 0; c < cols; c++) {
      channelWeights[c] += 1f;
    }
    try (CudaBackend gpu = CudaBackend.open(CudaOptions.defaults())) {
      System.out.println("GPU backend: " + gpu.description());
      CodebookFitter.Fit fit = CodebookFitter.fit(gpu, weight, rows, cols, dim, 1 << bits,
          channelWeights, null, 0, new CodebookFitter.Limits(iterations, -1));
      double[] objectives = fit.objectives();
      Double torchSeconds = null;
      Double torchObjective = null;
      if (torchFile != null && torchFile.toFile().exists()) {
        JsonNode torch = new ObjectMapper().readTree(torchFile.toFile());
        torchSeconds = torch.get("seconds").asDouble();
        torchObjective = torch.get("finalObjective").asDouble();
      }
      Double ratio = torchSeconds == null ? null : fit.lloydSeconds() / torchSeconds;
      Results results = new Results(ENTRY, Instant.now().toString(), gpu.description(), rows,
          cols, dim, bits, fit.iterations(), fit.seedingSeconds(), fit.lloydSeconds(),
          fit.lloydSeconds() / Math.max(1, fit.iterations()), objectives[0],
          objectives[objectives.length - 1], torchSeconds, torchObjective, ratio);
      Table table = new Table("fit", "shape", "iterations", "seconds", "s/iteration",
          "final objective");
      String layer = rows + "×" + cols + " d" + dim + " k" + bits;
      table.row("Calibra k-means++ seeding", layer, "-", format(fit.seedingSeconds()), "-", "-");
      table.row("Calibra Lloyd (GPU)", layer, fit.iterations(), format(fit.lloydSeconds()),
          format(results.lloydSecondsPerIteration()), String.format(Locale.ROOT, "%.6g",
              results.finalObjective()));
      if (torchSeconds != null) {
        table.row("PyTorch cdist + argmin + index_add_", layer, iterations, format(torchSeconds),
            format(torchSeconds / iterations), String.format(Locale.ROOT, "%.6g",
                torchObjective));
      }
      table.print(System.out);
      if (ratio != null) {
        System.out.printf(Locale.ROOT, "Lloyd iterations: %.3f× PyTorch's time%n", ratio);
      }
      System.out.println("results written to " + ResultFile.write(ENTRY, results));
    }
  }

  private static String format(double seconds) {
    return String.format(Locale.ROOT, "%.3f", seconds);
  }
}
