package dev.calibra.calibration.cbq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.partitioning.WindowLayout;
import dev.calibra.partitioning.WindowSpan;
import dev.calibra.storage.hf.ModelDirectory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a GPU backend needs from the calibration loop, checked without a GPU: CBQ on a backend
 * that refuses closed tensors uses none, leaves only the finished blocks' weights open, learns
 * exactly what the plain CPU backend learns, and its model can be evaluated again and again (each
 * evaluation closes the copies of the weights it was given).
 */
class CbqTensorLifetimeTest {

  /** Tensors a finished stories260K block keeps: two norms and seven linear weights. */
  private static final int TENSORS_PER_BLOCK = 2 + Linear.values().length;
  private static final int BLOCKS = 5;

  /** One pass per window, and one of end-to-end tuning when {@code endToEnd}. */
  private static CbqRecipe recipe(int activationBits, boolean endToEnd) {
    return new CbqRecipe.Builder(new QuantizationScheme(3, 32)).epochs(1).batchSize(2)
        .activations(activationBits, 0.5f).endToEnd(endToEnd ? 1 : 0, 3e-3f).build();
  }

  @Test
  void calibrationReleasesWhatItNoLongerNeedsAndLearnsWhatTheCpuDoes() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedModels.model("stories260K").toString())) {
      List<int[]> samples = SharedModels.stories("calibration").subList(0, 6);
      List<int[]> evaluation = EvaluationWindows.ofSequences(
          SharedModels.stories("evaluation").subList(0, 4), 512);
      for (int activationBits : new int[] {0, 8}) {
        // The end-to-end pass learns latent weights in one run and the group steps alone in the
        // other: both kinds of tuner are checked.
        CbqRecipe recipe = recipe(activationBits, true).toBuilder()
            .endToEndWeightLearningRate(activationBits == 0 ? 0.01f : 0f).build();
        var checked = ClosedTensorCheckingBackend.create();
        CalibratedModel calibrated = new CbqCalibrator(checked.backend(), recipe,
            CalibrationListener.SILENT).calibrate(model.weights(), samples);
        assertEquals(BLOCKS * TENSORS_PER_BLOCK, checked.checks().openTensors(),
            "a" + activationBits + ": open tensors after calibration");

        CpuBackend cpu = new CpuBackend();
        CalibratedModel plain = new CbqCalibrator(cpu, recipe, CalibrationListener.SILENT)
            .calibrate(model.weights(), samples);
        assertSameCodes(plain.blocks(), calibrated.blocks());

        double first = perplexity(checked.backend(), calibrated, evaluation);
        double second = perplexity(checked.backend(), calibrated, evaluation);
        assertEquals(perplexity(cpu, plain, evaluation), first, "a" + activationBits);
        assertEquals(first, second, "a" + activationBits + ": a second evaluation");
        assertEquals(BLOCKS * TENSORS_PER_BLOCK, checked.checks().openTensors(),
            "a" + activationBits + ": open tensors after evaluating twice");
      }
    }
  }

  @Test
  void aCalibrationInTwoPartsUsesNoClosedTensor() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedModels.model("stories260K").toString())) {
      List<int[]> samples = SharedModels.stories("calibration").subList(0, 4);
      var checked = ClosedTensorCheckingBackend.create();
      CbqCalibrator calibrator = new CbqCalibrator(checked.backend(), recipe(0, false),
          CalibrationListener.SILENT);
      List<WindowSpan> windows = WindowLayout.of(BLOCKS, 2, 1);
      CbqCalibrator.Outcome first = calibrator.calibrateWindows(model.weights(),
          calibrator.embed(model.weights(), samples), windows.subList(0, 2), 2, List.of());
      CbqCalibrator.Outcome second = calibrator.calibrateWindows(model.weights(), first.next(),
          windows.subList(2, 4), BLOCKS, first.carried());
      List<QuantizedBlock> parts = new ArrayList<>(first.finished());
      parts.addAll(second.finished());
      CalibratedModel whole = new CbqCalibrator(new CpuBackend(), recipe(0, false),
          CalibrationListener.SILENT).calibrate(model.weights(), samples);
      assertSameCodes(whole.blocks(), parts);
    }
  }

  private static void assertSameCodes(List<QuantizedBlock> expected, List<QuantizedBlock> actual) {
    assertEquals(expected.size(), actual.size());
    for (int b = 0; b < expected.size(); b++) {
      for (Linear linear : Linear.values()) {
        assertArrayEquals(expected.get(b).matrices().get(linear).codes(),
            actual.get(b).matrices().get(linear).codes(), "block " + b + " " + linear);
        assertArrayEquals(expected.get(b).matrices().get(linear).scales(),
            actual.get(b).matrices().get(linear).scales(), 0f, "block " + b + " " + linear);
      }
    }
  }

  private static double perplexity(Backend backend, LlamaWeightSource weights,
      List<int[]> windows) {
    return new PerplexityEvaluator(new LayerwiseRunner(backend, 8192, (i, n, t) -> { }))
        .evaluate(weights, windows).value();
  }
}
