package dev.calibra.partitioning;

import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import java.io.Serializable;

/**
 * The dimensions of a Llama-family model that its calibration cost depends on; no weights. Every
 * decoder block of such a model has the same shape, so one block's estimate serves them all.
 *
 * @param blocks number of decoder blocks ({@code num_hidden_layers})
 * @param attentionBias whether q/k/v carry a bias (qwen2): a few more float weights per block
 * @param tiedEmbeddings whether the output projection shares the embedding table (only changes the
 *     whole-model parameter count that plans print)
 */
public record ModelShape(
    int blocks,
    int hiddenSize,
    int intermediateSize,
    int numHeads,
    int numKeyValueHeads,
    int headDim,
    int vocabSize,
    boolean attentionBias,
    boolean tiedEmbeddings) implements Serializable {

  private static final long serialVersionUID = 1L;

  public ModelShape {
    requirePositive("blocks", blocks);
    requirePositive("hidden size", hiddenSize);
    requirePositive("intermediate size", intermediateSize);
    requirePositive("heads", numHeads);
    requirePositive("key/value heads", numKeyValueHeads);
    requirePositive("head dim", headDim);
    requirePositive("vocabulary size", vocabSize);
    if (numHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException("heads (" + numHeads
          + ") must be a multiple of key/value heads (" + numKeyValueHeads + ")");
    }
  }

  /** The shape of a model read from its {@code config.json}. */
  public static ModelShape of(LlamaConfig config) {
    return new ModelShape(config.numLayers(), config.hiddenSize(), config.intermediateSize(),
        config.numHeads(), config.numKeyValueHeads(), config.headDim(), config.vocabSize(),
        config.attentionBias(), config.tieWordEmbeddings());
  }

  /**
   * A plain Llama shape: head dim = hidden / heads, no attention bias, separate output
   * projection (Llama 2 7B is {@code llama(32, 4096, 11008, 32, 32, 32000)}).
   */
  public static ModelShape llama(int blocks, int hiddenSize, int intermediateSize, int numHeads,
      int numKeyValueHeads, int vocabSize) {
    if (numHeads <= 0 || hiddenSize % numHeads != 0) {
      throw new IllegalArgumentException("hidden size must be a positive multiple of the heads, "
          + "got hidden size " + hiddenSize + " and " + numHeads + " heads");
    }
    return new ModelShape(blocks, hiddenSize, intermediateSize, numHeads, numKeyValueHeads,
        hiddenSize / numHeads, vocabSize, false, false);
  }

  private static void requirePositive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  public int queryWidth() {
    return numHeads * headDim;
  }

  public int keyValueWidth() {
    return numKeyValueHeads * headDim;
  }

  /** Output rows of a linear layer's [out, in] weight. */
  public int rows(Linear linear) {
    return switch (linear) {
      case Q -> queryWidth();
      case K, V -> keyValueWidth();
      case O, DOWN -> hiddenSize;
      case GATE, UP -> intermediateSize;
    };
  }

  /** Input columns of a linear layer's [out, in] weight. */
  public int cols(Linear linear) {
    return switch (linear) {
      case Q, K, V, GATE, UP -> hiddenSize;
      case O -> queryWidth();
      case DOWN -> intermediateSize;
    };
  }

  /** Weights of the seven linear layers of one block: the ones that get quantized. */
  public long linearWeights() {
    long sum = 0;
    for (Linear linear : Linear.values()) {
      sum += (long) rows(linear) * cols(linear);
    }
    return sum;
  }

  /** Every float parameter of one block: the linears, the two RMSNorm weights, the biases. */
  public long blockParameters() {
    long biases = attentionBias ? queryWidth() + 2L * keyValueWidth() : 0;
    return linearWeights() + 2L * hiddenSize + biases;
  }

  /** The whole model: blocks, embedding table, output projection unless tied, final norm. */
  public long parameters() {
    long embeddings = (long) vocabSize * hiddenSize * (tiedEmbeddings ? 1 : 2);
    return blocks * blockParameters() + embeddings + hiddenSize;
  }
}
