package dev.calibra.model.llama;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import java.util.EnumMap;
import java.util.Map;

/**
 * Accumulators for the parameter gradients a caller asked for; a parameter left out gets no
 * gradient and costs no work. Gradients add up over calls until the caller resets them.
 */
public final class BlockGradients {

  private final Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
  private final Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
  private Tensor inputNorm;
  private Tensor postAttentionNorm;

  /** Gradients for every parameter of a block shaped like {@code like}. */
  public static BlockGradients forAllParameters(BlockWeights like, Backend backend) {
    BlockGradients gradients = forLinearWeights(like, backend, Linear.values());
    for (Linear linear : Linear.values()) {
      Tensor bias = like.bias(linear);
      if (bias != null) {
        gradients.biases.put(linear, backend.zeros(1, bias.cols()));
      }
    }
    gradients.inputNorm = backend.zeros(1, like.inputNorm().cols());
    gradients.postAttentionNorm = backend.zeros(1, like.postAttentionNorm().cols());
    return gradients;
  }

  /** Gradients for the given linear weights only: what weight quantization needs. */
  public static BlockGradients forLinearWeights(BlockWeights like, Backend backend, Linear... linears) {
    BlockGradients gradients = new BlockGradients();
    for (Linear linear : linears) {
      Tensor w = like.weight(linear);
      gradients.weights.put(linear, backend.zeros(w.rows(), w.cols()));
    }
    return gradients;
  }

  /** The gradient of a linear weight, or null when it was not asked for. */
  public Tensor weight(Linear linear) {
    return weights.get(linear);
  }

  public Tensor bias(Linear linear) {
    return biases.get(linear);
  }

  public Tensor inputNorm() {
    return inputNorm;
  }

  public Tensor postAttentionNorm() {
    return postAttentionNorm;
  }
}
