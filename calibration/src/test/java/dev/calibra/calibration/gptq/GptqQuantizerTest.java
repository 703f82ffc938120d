package dev.calibra.calibration.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.cbq.CalibratedModel;
import dev.calibra.calibration.cbq.ClosedTensorCheckingBackend;
import dev.calibra.calibration.cbq.SharedModels;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.hf.ModelDirectory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GPTQ on stories260K against the PyTorch reference of shared/README.md: same calibration split,
 * same evaluation split, same numbers.
 */
class GptqQuantizerTest {

  private final CpuBackend backend = new CpuBackend();

  @Test
  void reproducesTheReferenceGptqColumn() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedModels.model("stories260K").toString())) {
      List<int[]> samples = SharedModels.stories("calibration");
      List<int[]> evaluation = EvaluationWindows.ofSequences(SharedModels.stories("evaluation"),
          512);
      List<QuantizedBlock> told = new ArrayList<>();
      CalibratedModel w4 = new GptqQuantizer(backend, new QuantizationScheme(4, 32), told::add)
          .quantize(model.weights(), samples);
      assertEquals(95.11, perplexity(w4, evaluation), 0.01, "W4 g32 (RTN: 156.59)");
      assertEquals(5, told.size());
      for (QuantizedBlock block : w4.blocks()) {
        assertEquals(Linear.values().length, block.matrices().size(), "block " + block.index());
      }

      CalibratedModel w3 = new GptqQuantizer(backend,
          new QuantizationScheme(3, QuantizationScheme.PER_CHANNEL), b -> { })
          .quantize(model.weights(), samples);
      assertEquals(1339.7, perplexity(w3, evaluation), 0.1, "W3 per-channel (RTN: 2043.5)");
    }
  }

  @Test
  void leavesOnlyTheQuantizedBlocksOpenAndUsesNoClosedTensor() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(SharedModels.model("stories260K").toString())) {
      List<int[]> samples = SharedModels.stories("calibration").subList(0, 10);
      QuantizationScheme scheme = new QuantizationScheme(3, 32);
      var checked = ClosedTensorCheckingBackend.create();
      CalibratedModel quantized = new GptqQuantizer(checked.backend(), scheme, b -> { })
          .quantize(model.weights(), samples);
      // Per block: two norms and seven linear weights.
      assertEquals(5 * (2 + Linear.values().length), checked.checks().openTensors());
      CalibratedModel plain = new GptqQuantizer(backend, scheme, b -> { })
          .quantize(model.weights(), samples);
      for (int b = 0; b < 5; b++) {
        for (Linear linear : Linear.values()) {
          assertArrayEquals(plain.blocks().get(b).matrices().get(linear).codes(),
              quantized.blocks().get(b).matrices().get(linear).codes(), "block " + b + " " + linear);
        }
      }
    }
  }

  private double perplexity(CalibratedModel model, List<int[]> windows) {
    return new PerplexityEvaluator(new LayerwiseRunner(backend, 8192, (i, n, t) -> { }))
        .evaluate(model, windows).value();
  }
}
