package dev.calibra.model.llama;

/**
 * The hyper-parameters of a Llama-family decoder (llama, mistral, qwen2), as read from a Hugging
 * Face {@code config.json}.
 *
 * @param architecture the {@code model_type} it was read from, for messages and reports
 * @param attentionBias whether q/k/v projections carry a bias (qwen2)
 * @param bosTokenId the beginning-of-sequence id, or −1 when the model defines none
 * @param eosTokenId the end-of-sequence id, or −1 when the model defines none
 */
public record LlamaConfig(
    String architecture,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKeyValueHeads,
    int headDim,
    int vocabSize,
    int maxPositions,
    float rmsNormEps,
    RopeScaling rope,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    int bosTokenId,
    int eosTokenId) {

  public LlamaConfig {
    requirePositive("hidden_size", hiddenSize);
    requirePositive("intermediate_size", intermediateSize);
    requirePositive("num_hidden_layers", numLayers);
    requirePositive("num_attention_heads", numHeads);
    requirePositive("num_key_value_heads", numKeyValueHeads);
    requirePositive("head_dim", headDim);
    requirePositive("vocab_size", vocabSize);
    requirePositive("max_position_embeddings", maxPositions);
    if (numHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException("num_attention_heads (" + numHeads
          + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + headDim);
    }
    if (!(rmsNormEps > 0)) {
      throw new IllegalArgumentException("rms_norm_eps must be positive, got " + rmsNormEps);
    }
  }

  private static void requirePositive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  /**
   * This config with an output projection of its own: what a model whose embedding and output
   * projection were transformed apart (a rotated residual stream) needs, even when the original
   * shares one table.
   */
  public LlamaConfig withUntiedEmbeddings() {
    return new LlamaConfig(architecture, hiddenSize, intermediateSize, numLayers, numHeads,
        numKeyValueHeads, headDim, vocabSize, maxPositions, rmsNormEps, rope, false, attentionBias,
        bosTokenId, eosTokenId);
  }

  /** Width of the concatenated query heads. */
  public int queryWidth() {
    return numHeads * headDim;
  }

  /** Width of the concatenated key (or value) heads. */
  public int keyValueWidth() {
    return numKeyValueHeads * headDim;
  }

  /** Shape [rows, cols] of a linear layer's weight in the Hugging Face [out, in] layout. */
  public int[] weightShape(Linear linear) {
    return switch (linear) {
      case Q -> new int[] {queryWidth(), hiddenSize};
      case K, V -> new int[] {keyValueWidth(), hiddenSize};
      case O -> new int[] {hiddenSize, queryWidth()};
      case GATE, UP -> new int[] {intermediateSize, hiddenSize};
      case DOWN -> new int[] {hiddenSize, intermediateSize};
    };
  }
}
