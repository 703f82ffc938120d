package dev.calibra.partitioning;

import java.util.function.ToIntFunction;

/**
 * The tensors a block's forward pass keeps for its backward pass, one constant per component of
 * {@code dev.calibra.model.llama.BlockActivations} (a test holds the two lists equal), each with
 * its width in float32 values per token.
 */
enum KeptActivation {
  INPUT(ModelShape::hiddenSize),
  INPUT_INV_RMS(m -> 1),
  NORMED_INPUT(ModelShape::hiddenSize),
  QUERIES(ModelShape::queryWidth),
  KEYS(ModelShape::keyValueWidth),
  VALUES(ModelShape::keyValueWidth),
  ATTENTION(ModelShape::queryWidth),
  ATTENTION_LOG_SUM_EXP(ModelShape::numHeads),
  /**
   * The o_proj input: the attention tensor itself unless activations are quantized, when it is
   * a quantized copy of qw values per token, which {@link MemoryModel} adds for such recipes.
   */
  OUTPUT_PROJECTION_INPUT(m -> 0),
  RESIDUAL(ModelShape::hiddenSize),
  RESIDUAL_INV_RMS(m -> 1),
  NORMED_RESIDUAL(ModelShape::hiddenSize),
  GATE(ModelShape::intermediateSize),
  UP(ModelShape::intermediateSize),
  HIDDEN(ModelShape::intermediateSize),
  OUTPUT(ModelShape::hiddenSize);

  private final ToIntFunction<ModelShape> width;

  KeptActivation(ToIntFunction<ModelShape> width) {
    this.width = width;
  }

  int width(ModelShape model) {
    return width.applyAsInt(model);
  }

  /** Float values per token of every kept tensor: 5h + 2·qw + 2·kvw + 3i + heads + 2. */
  static long perToken(ModelShape model) {
    long sum = 0;
    for (KeptActivation a : values()) {
      sum += a.width(model);
    }
    return sum;
  }
}
