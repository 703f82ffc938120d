package dev.calibra.bench;

import dev.calibra.bench.cuda.GpuTimer;
import dev.calibra.bench.cuda.RandomFill;
import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.kernels.cuda.CudaOptions;
import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.Tensor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Entry {@code cbq-ops}: the GPU's calibration ops (the ops CBQ adds to a training step) on
 * LLaMA-7B shapes: a 11008 × 4096 weight in groups of 128 with learned clipping and rounding, and
 * activations of 8192 tokens. Each op's median time, and the bandwidth its least memory traffic
 * (every input read once, every output written once) would take in that time: memory-bound ops
 * near the GPU's bandwidth leave little to gain. Needs a GPU.
 */
public final class CbqOpsBenchmark {

  private static final String ENTRY = "cbq-ops";
  private static final int WEIGHT_ROWS = 11008;
  private static final int WEIGHT_COLS = 4096;
  private static final int GROUP = 128;
  private static final int TOKENS = 8192;

  /** One op: its shape, median time and effective bandwidth. */
  record OpRow(String op, String shape, double milliseconds, double gigabytesPerSecond) {}

  record Results(String entry, String measuredAt, String device, List<OpRow> ops) {}

  private CbqOpsBenchmark() {}

  public static void main(String[] args) throws Exception {
    try (CudaBackend gpu = CudaBackend.open(CudaOptions.defaults())) {
      System.out.println("GPU backend: " + gpu.description());
      List<OpRow> rows = new ArrayList<>();
      int groups = LearnedWeightQuantization.groups(WEIGHT_COLS, GROUP);
      long elements = (long) WEIGHT_ROWS * WEIGHT_COLS;
      String weightShape = WEIGHT_ROWS + "×" + WEIGHT_COLS + " g" + GROUP;
      Tensor weight = random(gpu, WEIGHT_ROWS, WEIGHT_COLS, 1, 0.05);
      Tensor groupMin = gpu.upload(filled(WEIGHT_ROWS * groups, -0.05f), WEIGHT_ROWS, groups);
      Tensor groupMax = gpu.upload(filled(WEIGHT_ROWS * groups, 0.05f), WEIGHT_ROWS, groups);
      Tensor clipLower = random(gpu, WEIGHT_ROWS, groups, 2, 0.5);
      Tensor clipUpper = random(gpu, WEIGHT_ROWS, groups, 3, 0.5);
      Tensor rounding = random(gpu, WEIGHT_ROWS, WEIGHT_COLS, 4, 1.5);
      LearnedWeightQuantization q = new LearnedWeightQuantization(weight, groupMin, groupMax,
          clipLower, clipUpper, rounding, 0.3f, 4, GROUP);
      Tensor out = gpu.zeros(WEIGHT_ROWS, WEIGHT_COLS);
      Tensor scales = gpu.zeros(WEIGHT_ROWS, groups);
      Tensor zeros = gpu.zeros(WEIGHT_ROWS, groups);
      Tensor dOut = random(gpu, WEIGHT_ROWS, WEIGHT_COLS, 5, 1);
      Tensor dRounding = gpu.zeros(WEIGHT_ROWS, WEIGHT_COLS);
      Tensor dClipLower = gpu.zeros(WEIGHT_ROWS, groups);
      Tensor dClipUpper = gpu.zeros(WEIGHT_ROWS, groups);
      // Per element: weight and rounding read, ŵ written in fp32 and as the products' bf16 copy
      // (group tensors are 1/128 of that; the transposed bf16 copy, 2 bytes more, is not counted).
      rows.add(time(gpu, "fakeQuantizeWeights soft", weightShape, 14 * elements,
          () -> gpu.fakeQuantizeWeights(q, false, out, null, null)));
      rows.add(time(gpu, "fakeQuantizeWeights hard + scales", weightShape, 14 * elements,
          () -> gpu.fakeQuantizeWeights(q, true, out, scales, zeros)));
      rows.add(time(gpu, "fakeQuantizeWeightsBackward", weightShape, 16 * elements,
          () -> gpu.fakeQuantizeWeightsBackward(q, dOut, dRounding, dClipLower, dClipUpper)));
      rows.add(time(gpu, "roundingRegularizer (returns the sum)", weightShape, 16 * elements,
          () -> gpu.roundingRegularizer(q, 8f, 1e-6f, dRounding)));
      // A parameter of the weight's size; the LoRA factors CBQ trains are far smaller.
      Tensor param = random(gpu, WEIGHT_ROWS, WEIGHT_COLS, 9, 1);
      Tensor m = gpu.zeros(WEIGHT_ROWS, WEIGHT_COLS);
      Tensor v = gpu.zeros(WEIGHT_ROWS, WEIGHT_COLS);
      AdamStep step = new AdamStep(1e-6f, 0.9f, 0.999f, 1e-8f, 1);
      rows.add(time(gpu, "adamUpdate", WEIGHT_ROWS + "×" + WEIGHT_COLS, 28 * elements,
          () -> gpu.adamUpdate(param, dOut, m, v, step)));

      long activations = (long) TOKENS * WEIGHT_COLS;
      String activationShape = TOKENS + "×" + WEIGHT_COLS;
      Tensor pred = random(gpu, TOKENS, WEIGHT_COLS, 6, 1);
      Tensor target = random(gpu, TOKENS, WEIGHT_COLS, 7, 1);
      Tensor dPred = gpu.zeros(TOKENS, WEIGHT_COLS);
      rows.add(time(gpu, "squaredError (returns the sum)", activationShape, 12 * activations,
          () -> gpu.squaredError(pred, target, 1f, dPred)));
      rows.add(time(gpu, "softmaxKlDivergence (returns the sum)", activationShape,
          16 * activations, () -> gpu.softmaxKlDivergence(target, pred, 1f, 1f, dPred)));

      long wide = (long) TOKENS * WEIGHT_ROWS;
      String wideShape = TOKENS + "×" + WEIGHT_ROWS;
      Tensor hidden = random(gpu, TOKENS, WEIGHT_ROWS, 8, 1);
      Tensor quantized = gpu.zeros(TOKENS, WEIGHT_ROWS);
      Tensor maxima = gpu.zeros(1, WEIGHT_ROWS);
      rows.add(time(gpu, "fakeQuantizeActivations 8 bits, QDrop 0.5", wideShape, 8 * wide,
          () -> gpu.fakeQuantizeActivations(hidden, 8, 0.5f, 42L, quantized)));
      rows.add(time(gpu, "columnAbsMax", wideShape, 4 * wide,
          () -> gpu.columnAbsMax(hidden, maxima)));

      Table table = new Table("op", "shape", "ms", "GB/s");
      for (OpRow row : rows) {
        table.row(row.op(), row.shape(), String.format(Locale.ROOT, "%.3f", row.milliseconds()),
            String.format(Locale.ROOT, "%.0f", row.gigabytesPerSecond()));
      }
      table.print(System.out);
      System.out.println("results written to " + ResultFile.write(ENTRY,
          new Results(ENTRY, Instant.now().toString(), gpu.description(), rows)));
    }
  }

  private static OpRow time(CudaBackend gpu, String op, String shape, long bytes, Runnable body) {
    double seconds = GpuTimer.medianSeconds(gpu, body, 3, 10, 5);
    return new OpRow(op, shape, seconds * 1e3, bytes / seconds / 1e9);
  }

  private static Tensor random(CudaBackend gpu, int rows, int cols, long seed, double scale) {
    return gpu.upload(RandomFill.uniform(rows * cols, seed, scale), rows, cols);
  }

  private static float[] filled(int count, float value) {
    float[] values = new float[count];
    Arrays.fill(values, value);
    return values;
  }
}
