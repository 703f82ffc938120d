package dev.calibra.model.llama;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;

/**
 * Hands out a model's weights one piece at a time, so that a caller holds only the blocks it
 * works on: a perplexity pass over a large model keeps one block in memory, a Spark task only its
 * shard. Each call uploads a fresh copy to the given backend.
 */
public interface LlamaWeightSource {

  LlamaConfig config();

  /** Token embedding table, vocab×hidden. */
  Tensor embedding(Backend backend);

  /** Parameters of block {@code index} (0-based). */
  BlockWeights block(int index, Backend backend);

  /** Final RMSNorm weight, 1×hidden. */
  Tensor finalNorm(Backend backend);

  /** Output projection, vocab×hidden; the embedding table itself when embeddings are tied. */
  Tensor lmHead(Backend backend);

  /**
   * What the linear layers of every block multiply: float activations unless the model
   * quantizes them too (W4A8 and the like).
   */
  default LinearInputQuantizer linearInputs(Backend backend) {
    return LinearInputQuantizer.NONE;
  }
}
