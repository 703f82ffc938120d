package dev.calibra.calibration.cfp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.RotaryTables;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Scaling activation outliers into the weights leaves the float model's function unchanged, on a
 * real block of dict-llama-15M (grouped-query attention 6/2) with outliers planted in its inputs.
 */
class ActivationOutlierScalingTest {

  private final CpuBackend backend = new CpuBackend();

  @Test
  void floatOutputsAreUnchangedAndOutliersShrink() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(sharedModel("dict-llama-15M").toString())) {
      LlamaConfig config = model.config();
      int seqLen = 48;
      DecoderBlock block = new DecoderBlock(config, backend, RotaryTables.of(config, seqLen, backend));
      BlockWeights weights = model.weights().block(2, backend);
      Random random = new Random(11);
      float[] x = new float[2 * seqLen * config.hiddenSize()];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      for (int row = 0; row < 2 * seqLen; row++) {
        x[row * config.hiddenSize() + 7] *= 40f; // outlier channels, as real models have
        x[row * config.hiddenSize() + 100] *= 25f;
      }
      Tensor input = backend.upload(x, 2 * seqLen, config.hiddenSize());
      ChannelMaxima maxima = ChannelMaxima.collect(block, weights, List.of(input), seqLen);
      ActivationOutlierScaling.Scaled scaled =
          ActivationOutlierScaling.apply(weights, config, maxima, backend);
      int total = 0;
      for (int n : scaled.scaledChannels()) {
        total += n;
      }
      assertTrue(total > 0, "some channels are outliers");

      float[] expected = backend.download(block.forward(weights, input, block.shape(2, seqLen)).output());
      float[] actual = backend.download(
          block.forward(scaled.weights(), input, block.shape(2, seqLen)).output());
      double errorSquares = 0;
      double norm = 0;
      for (int i = 0; i < expected.length; i++) {
        errorSquares += Math.pow(actual[i] - expected[i], 2);
        norm += Math.pow(expected[i], 2);
      }
      double relative = Math.sqrt(errorSquares / norm);
      System.out.printf("activation scaling: %d channels scaled, relative output change %.2e%n",
          total, relative);
      assertTrue(relative < 1e-5, "relative change " + relative);

      ChannelMaxima after = ChannelMaxima.collect(block, scaled.weights(), List.of(input),
          seqLen);
      assertTrue(max(after.attentionInput()) < max(maxima.attentionInput()),
          "the largest q/k/v input channel shrank");
    }
  }

  private static float max(float[] values) {
    float m = 0;
    for (float v : values) {
      m = Math.max(m, v);
    }
    return m;
  }

  static Path sharedModel(String name) {
    String shared = System.getProperty("calibra.shared", "../../shared");
    return Path.of(shared, "models", name);
  }
}
