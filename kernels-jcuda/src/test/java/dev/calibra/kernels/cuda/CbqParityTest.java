package dev.calibra.kernels.cuda;

import dev.calibra.calibration.CalibrationWindows;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.cbq.CalibratedModel;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.cbq.LayerQuantizerFactory;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.cpu.Parallel;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * CBQ calibrated on the GPU against the same calibration on the CPU, end to end on the shared
 * models, the way {@code calibra quantize --method cbq} runs it: {@link CbqCalibrator#calibrate}
 * on the CLI's calibration samples, then perplexity through {@link LayerwiseRunner} (8192 tokens
 * per batch) on the CLI's evaluation windows. (The CLI itself reads models through Hadoop, whose
 * jars are too large to carry to the GPU machine; this is the same library path.)
 *
 * <p>Issue 4's bar: the calibrated model's perplexity within 0.5% of the CPU's, with bf16 and with
 * fp32 products. Whole-window training does not stay bit-identical (bf16 products, summation
 * orders, and then Adam on slightly different gradients, and hard rounding decisions that flip on
 * them), so the window losses are printed side by side, not asserted. dict-llama-15M meets the bar
 * with room to spare. stories260K (64 values per token) is too small for it: its CBQ perplexity
 * moves between recipe seeds on the CPU alone by more than 0.5%. Measured on the H100 machine's
 * CPU for seeds 0–3: default recipe 59.50, 59.08, 60.06, 58.74 (a 2.2% range); W4A8 for one
 * epoch 79.02, 80.58, 78.61, 78.45 (2.7%). The GPU calibrations land at the edges of those
 * ranges (bf16 60.25 and 80.71, fp32 58.34 and 80.38 against seed 0's 59.50 and 79.02: 1.3–2.1%
 * away), so its bound is 3%, the seed spread; fp32 products, which differ from the CPU's in the
 * last bits only, still move it by up to 2%. A GPU calibration repeated gives the same
 * perplexity to the last bit (no atomics anywhere). Each backend prints a line "CBQ model | backend | perplexity … |
 * calibration … s | evaluation … s" that the GPU run collects.
 *
 * <p>Minutes long on the CPU: tagged "cbq", which the GPU run executes on its own.
 */
@Tag("cbq")
class CbqParityTest {

  private static final double TOLERANCE = 5e-3;
  /** stories260K's bound: the spread of its CBQ perplexity over recipe seeds (see above). */
  private static final double SEED_SPREAD = 3e-2;
  /**
   * The same for VQ d2k4 in one epoch with the end-to-end pass, which tunes its codebooks: CPU
   * seeds 0–3 gave 357.07, 441.53, 393.93, 398.18 (a 24% range); the GPU landed at 345.79 with
   * bf16 products and at 357.0739 with fp32 ones (4e-7 from the CPU's seed 0).
   */
  private static final double VQ_SEED_SPREAD = 0.24;
  private static final int BATCH_TOKENS = 8192;

  /** One calibration and its evaluation on one backend; {@code memory} says what it used. */
  private record Run(String backend, double perplexity, double calibrationSeconds,
      double evaluationSeconds, List<double[]> windowLosses, String memory) {

    Run withMemory(String text) {
      return new Run(backend, perplexity, calibrationSeconds, evaluationSeconds, windowLosses,
          text);
    }
  }

  @Test
  void stories260kW4g32DefaultRecipe() throws IOException {
    compareOnStories("w4 g32, default recipe", CbqRecipe.defaults(new QuantizationScheme(4, 32)),
        LayerQuantizerFactory.NONE, SEED_SPREAD);
  }

  /** W4A8: activations fake-quantized per token, with QDrop in training (masks as the CPU's). */
  @Test
  void stories260kW4A8OneEpoch() throws IOException {
    compareOnStories("w4 g32 a8, 1 epoch", CbqRecipe.defaults(new QuantizationScheme(4, 32))
        .toBuilder().epochs(1).activations(8, 0.5f).build(), LayerQuantizerFactory.NONE,
        SEED_SPREAD);
  }

  /**
   * Vector quantization in CBQ's windows: every layer d2k4 (k-means on the GPU's VQ kernels,
   * then VQ4DiT's soft assignment trained through them), one epoch, then the end-to-end pass
   * tuning the codebooks.
   */
  @Test
  void stories260kVqD2k4OneEpoch() throws IOException {
    compareOnStories("vq *:d2k4, 1 epoch", CbqRecipe.defaults(new QuantizationScheme(2, 64))
        .toBuilder().epochs(1).build(), VqRecipe.parse("*:d2k4"), VQ_SEED_SPREAD);
  }

  /**
   * CBQ on stories260K as the CLI calibrates it: --calib-tokens sequences.json#calibration, all 64
   * sequences (fewer than the default 128) at their own length; --eval-tokens
   * sequences.json#evaluation. Bounded by the seed spread.
   */
  private static void compareOnStories(String what, CbqRecipe recipe,
      LayerQuantizerFactory layers, double seedSpread) throws IOException {
    Gpu.assumeAvailable();
    Assumptions.assumeTrue(SharedModel.exists("stories260K"), "no shared stories260K model");
    SharedModel model = SharedModel.open("stories260K");
    List<int[]> samples = model.sequences("calibration");
    List<int[]> evaluation = EvaluationWindows.ofSequences(model.sequences("evaluation"),
        model.config().maxPositions());
    compare("stories260K " + what + ", " + shape(samples), model, recipe, layers, samples,
        evaluation, seedSpread);
  }

  @Test
  void dictLlama15mW4g128ShortRecipe() throws IOException {
    Gpu.assumeAvailable();
    Assumptions.assumeTrue(SharedModel.exists("dict-llama-15M"), "no shared dict-llama-15M model");
    SharedModel model = SharedModel.open("dict-llama-15M");
    // --calib-samples 32 --epochs 1 on calibration.txt (windows of 512 tokens spread over it, as
    // the CLI takes them); heldout.txt in the CLI's default 40 windows of 512.
    int seqLen = 512;
    List<int[]> samples = CalibrationWindows.spread(model.paragraphTokens("calibration.txt"),
        seqLen, 32);
    List<int[]> evaluation = EvaluationWindows.ofStream(model.paragraphTokens("heldout.txt"),
        seqLen, 40);
    compare("dict-llama-15M w4 g128, 1 epoch, " + shape(samples), model,
        CbqRecipe.defaults(new QuantizationScheme(4, 128)).toBuilder().epochs(1).build(), samples,
        evaluation, TOLERANCE);
  }

  private static void compare(String label, LlamaWeightSource model, CbqRecipe recipe,
      List<int[]> samples, List<int[]> evaluation, double tolerance) {
    compare(label, model, recipe, LayerQuantizerFactory.NONE, samples, evaluation, tolerance);
  }

  private static void compare(String label, LlamaWeightSource model, CbqRecipe recipe,
      LayerQuantizerFactory layers, List<int[]> samples, List<int[]> evaluation,
      double tolerance) {
    Run cpu = run("cpu (" + Parallel.threads() + " threads)", new CpuBackend(), model, recipe,
        layers, samples, evaluation);
    print(label, cpu, cpu);
    List<String> failures = new ArrayList<>();
    for (MatmulPrecision precision : MatmulPrecision.values()) {
      Run gpu = runOnGpu(precision, model, recipe, layers, samples, evaluation);
      print(label, gpu, cpu);
      double relative = Math.abs(gpu.perplexity - cpu.perplexity) / cpu.perplexity;
      Parity.report("cbq", String.format(Locale.ROOT, "%s, %s: cpu %.4f, gpu %.4f", label,
          gpu.backend, cpu.perplexity, gpu.perplexity), "perplexity relative difference",
          relative, tolerance);
      if (!(relative <= tolerance)) {
        failures.add(gpu.backend + ": perplexity " + gpu.perplexity + " vs cpu " + cpu.perplexity);
      }
      if (precision == MatmulPrecision.BF16) {
        double repeated = runOnGpu(precision, model, recipe, layers, samples, evaluation)
            .perplexity;
        Parity.report("cbq", String.format(Locale.ROOT, "%s, %s repeated: %.4f", label,
            gpu.backend, repeated), "perplexity difference", Math.abs(repeated - gpu.perplexity),
            0);
        if (repeated != gpu.perplexity) {
          failures.add(gpu.backend + " repeated: perplexity " + repeated + " after "
              + gpu.perplexity);
        }
      }
    }
    Parity.failIfAny(failures);
  }

  /** A calibration on a fresh GPU backend, which is closed afterwards. */
  private static Run runOnGpu(MatmulPrecision precision, LlamaWeightSource model,
      CbqRecipe recipe, LayerQuantizerFactory layers, List<int[]> samples,
      List<int[]> evaluation) {
    try (CudaBackend backend = CudaBackend.open(CudaOptions.defaults()
        .withDevice(Integer.getInteger("calibra.cuda.device", 0)).withPrecision(precision))) {
      return run("cuda " + precision.label(), backend, model, recipe, layers, samples,
          evaluation)
          .withMemory(String.format(Locale.ROOT,
              " | GPU memory peak %.1f MiB, %.1f MiB in use after (the calibrated blocks)",
              backend.poolStats().peakBytesInUse() / 1048576.0,
              backend.poolStats().bytesInUse() / 1048576.0));
    }
  }

  private static Run run(String name, Backend backend, LlamaWeightSource model, CbqRecipe recipe,
      LayerQuantizerFactory layers, List<int[]> samples, List<int[]> evaluation) {
    List<double[]> losses = new ArrayList<>();
    CalibrationListener listener = new CalibrationListener() {
      @Override
      public void windowDone(WindowReport report) {
        losses.add(new double[] {report.losses().start(), report.losses().end()});
      }

      @Override
      public void blockDone(QuantizedBlock block) {}
    };
    long start = System.nanoTime();
    CalibratedModel calibrated = new CbqCalibrator(backend, recipe, layers, listener)
        .calibrate(model, samples);
    double calibration = (System.nanoTime() - start) / 1e9;
    start = System.nanoTime();
    double perplexity = new PerplexityEvaluator(new LayerwiseRunner(backend, BATCH_TOKENS,
        (index, total, nanos) -> { })).evaluate(calibrated, evaluation).value();
    double evaluationSeconds = (System.nanoTime() - start) / 1e9;
    return new Run(name, perplexity, calibration, evaluationSeconds, losses, "");
  }

  private static void print(String label, Run run, Run cpu) {
    String speedUp = run == cpu ? ""
        : String.format(Locale.ROOT, " (%.1f× the CPU's speed)",
            cpu.calibrationSeconds / run.calibrationSeconds);
    System.out.printf(Locale.ROOT, "CBQ %s | %s | perplexity %.4f | calibration %.1f s%s | "
        + "evaluation %.1f s%s%n", label, run.backend, run.perplexity, run.calibrationSeconds,
        speedUp, run.evaluationSeconds, run.memory);
    System.out.printf(Locale.ROOT, "CBQ %s | %s | window losses (start → end) %s%n", label,
        run.backend, run.windowLosses.stream()
            .map(l -> String.format(Locale.ROOT, "%.4g → %.4g", l[0], l[1]))
            .collect(Collectors.joining(", ")));
  }

  private static String shape(List<int[]> samples) {
    return samples.size() + " × " + samples.get(0).length + " calibration tokens";
  }
}
