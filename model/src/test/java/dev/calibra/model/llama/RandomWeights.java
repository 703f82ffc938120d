package dev.calibra.model.llama;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;

/** Small random Llama blocks for tests that need weights but not a trained model. */
public final class RandomWeights {

  private RandomWeights() {}

  public static LlamaConfig config(boolean attentionBias) {
    return new LlamaConfig(attentionBias ? "qwen2" : "llama", 16, 24, 3, 4, 2, 4, 40, 64, 1e-5f,
        RopeScaling.standard(10000), true, attentionBias, 1, 2);
  }

  /**
   * A whole random model of {@code config}: blocks from {@link #block}, an embedding table and a
   * final norm, the same tensors on every call.
   */
  public static LlamaWeightSource model(LlamaConfig config, long seed) {
    return new LlamaWeightSource() {
      @Override
      public LlamaConfig config() {
        return config;
      }

      @Override
      public Tensor embedding(Backend backend) {
        return gaussian(backend, new Random(seed), config.vocabSize(), config.hiddenSize(), 1);
      }

      @Override
      public BlockWeights block(int index, Backend backend) {
        return RandomWeights.block(config, backend, new Random(seed + 1 + index));
      }

      @Override
      public Tensor finalNorm(Backend backend) {
        return gaussian(backend, new Random(seed - 1), 1, config.hiddenSize(), 1);
      }

      @Override
      public Tensor lmHead(Backend backend) {
        return embedding(backend);
      }
    };
  }

  static BlockWeights block(LlamaConfig config, Backend backend, Random random) {
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      int[] shape = config.weightShape(linear);
      weights.put(linear, gaussian(backend, random, shape[0], shape[1], 1.0 / Math.sqrt(shape[1])));
      if (config.attentionBias() && linear.takesAttentionBias()) {
        biases.put(linear, gaussian(backend, random, 1, shape[0], 0.3));
      }
    }
    Tensor norm1 = gaussian(backend, random, 1, config.hiddenSize(), 0.2);
    Tensor norm2 = gaussian(backend, random, 1, config.hiddenSize(), 0.2);
    float[] n1 = backend.download(norm1);
    float[] n2 = backend.download(norm2);
    for (int i = 0; i < n1.length; i++) {
      n1[i] += 1f;
      n2[i] += 1f;
    }
    return new BlockWeights(config, backend.upload(n1, 1, n1.length), backend.upload(n2, 1, n2.length),
        weights, biases);
  }

  static Tensor gaussian(Backend backend, Random random, int rows, int cols, double scale) {
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return backend.upload(values, rows, cols);
  }
}
