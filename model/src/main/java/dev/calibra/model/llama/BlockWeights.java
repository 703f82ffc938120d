package dev.calibra.model.llama;

import dev.calibra.model.backend.Tensor;
import java.util.EnumMap;
import java.util.Map;

/**
 * The parameters of one decoder block: two RMSNorm weights (1×hidden), the seven linear weights
 * in [out, in] layout and, for qwen2-style models, the q/k/v biases (1×out).
 *
 * <p>Immutable: quantizers make a new instance with {@link #withLinear} so that the float and the
 * quantized weights of a block can be used side by side.
 */
public final class BlockWeights {

  private final Tensor inputNorm;
  private final Tensor postAttentionNorm;
  private final Map<Linear, Tensor> weights;
  private final Map<Linear, Tensor> biases;

  /**
   * @param biases biases for Q/K/V when the config has attention bias, otherwise empty
   * @throws IllegalArgumentException when a tensor is missing or its shape is not the config's
   */
  public BlockWeights(LlamaConfig config, Tensor inputNorm, Tensor postAttentionNorm,
      Map<Linear, Tensor> weights, Map<Linear, Tensor> biases) {
    requireShape("input_layernorm.weight", inputNorm, 1, config.hiddenSize());
    requireShape("post_attention_layernorm.weight", postAttentionNorm, 1, config.hiddenSize());
    for (Linear linear : Linear.values()) {
      int[] shape = config.weightShape(linear);
      requireShape(linear.hfName() + ".weight", weights.get(linear), shape[0], shape[1]);
      boolean wantsBias = config.attentionBias() && linear.takesAttentionBias();
      if (wantsBias) {
        requireShape(linear.hfName() + ".bias", biases.get(linear), 1, shape[0]);
      } else if (biases.containsKey(linear)) {
        throw new IllegalArgumentException(linear.hfName() + ".bias given but the config has no "
            + "attention bias for it");
      }
    }
    this.inputNorm = inputNorm;
    this.postAttentionNorm = postAttentionNorm;
    this.weights = new EnumMap<>(weights);
    this.biases = biases.isEmpty() ? Map.of() : new EnumMap<>(biases);
  }

  private BlockWeights(Tensor inputNorm, Tensor postAttentionNorm, Map<Linear, Tensor> weights,
      Map<Linear, Tensor> biases) {
    this.inputNorm = inputNorm;
    this.postAttentionNorm = postAttentionNorm;
    this.weights = weights;
    this.biases = biases;
  }

  private static void requireShape(String name, Tensor tensor, int rows, int cols) {
    if (tensor == null) {
      throw new IllegalArgumentException("missing " + name + " (expected " + rows + "×" + cols + ")");
    }
    if (tensor.rows() != rows || tensor.cols() != cols) {
      throw new IllegalArgumentException(name + " is " + tensor.shapeText() + ", expected "
          + rows + "×" + cols);
    }
  }

  public Tensor inputNorm() {
    return inputNorm;
  }

  public Tensor postAttentionNorm() {
    return postAttentionNorm;
  }

  public Tensor weight(Linear linear) {
    return weights.get(linear);
  }

  /** The layer's bias, or null when it has none. */
  public Tensor bias(Linear linear) {
    return biases.get(linear);
  }

  /** A copy with one linear weight replaced by a tensor of the same shape. */
  public BlockWeights withLinear(Linear linear, Tensor weight) {
    requireSameShape(linear.hfName() + ".weight", weights.get(linear), weight);
    Map<Linear, Tensor> replaced = new EnumMap<>(weights);
    replaced.put(linear, weight);
    return new BlockWeights(inputNorm, postAttentionNorm, replaced, biases);
  }

  /** A copy with a layer's existing bias replaced by one of the same shape. */
  public BlockWeights withBias(Linear linear, Tensor bias) {
    if (!biases.containsKey(linear)) {
      throw new IllegalArgumentException(linear.hfName() + " has no bias to replace");
    }
    requireSameShape(linear.hfName() + ".bias", biases.get(linear), bias);
    Map<Linear, Tensor> replaced = new EnumMap<>(biases);
    replaced.put(linear, bias);
    return new BlockWeights(inputNorm, postAttentionNorm, weights, replaced);
  }

  /** A copy with both norm weights replaced by ones of the same shape. */
  public BlockWeights withNorms(Tensor newInputNorm, Tensor newPostAttentionNorm) {
    requireSameShape("input_layernorm.weight", inputNorm, newInputNorm);
    requireSameShape("post_attention_layernorm.weight", postAttentionNorm, newPostAttentionNorm);
    return new BlockWeights(newInputNorm, newPostAttentionNorm, weights, biases);
  }

  /**
   * Closes every tensor of this block that {@code kept} (nullable) does not hold too: what a
   * replaced block leaves behind once its successor made by {@link #withLinear} and the like is
   * all that is used. Tensors held by both stay open.
   */
  public void closeAllBut(BlockWeights kept) {
    closeUnlessKept(inputNorm, kept == null ? null : kept.inputNorm);
    closeUnlessKept(postAttentionNorm, kept == null ? null : kept.postAttentionNorm);
    for (Linear linear : Linear.values()) {
      closeUnlessKept(weights.get(linear), kept == null ? null : kept.weights.get(linear));
      closeUnlessKept(biases.get(linear), kept == null ? null : kept.biases.get(linear));
    }
  }

  private static void closeUnlessKept(Tensor tensor, Tensor kept) {
    if (tensor != null && tensor != kept) {
      tensor.close();
    }
  }

  private static void requireSameShape(String name, Tensor old, Tensor replacement) {
    if (replacement.rows() != old.rows() || replacement.cols() != old.cols()) {
      throw new IllegalArgumentException(name + " replacement is " + replacement.shapeText()
          + ", expected " + old.shapeText());
    }
  }
}
