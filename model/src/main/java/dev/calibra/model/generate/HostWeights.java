package dev.calibra.model.generate;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.Linear;

/**
 * A model's float weights as plain arrays on the heap, read once for every batch an
 * {@link IncrementalDecoder} decodes; the output projection is the embedding table itself when
 * the two are tied.
 */
record HostWeights(LlamaConfig config, float[] embedding, float[] finalNorm, float[] lmHead,
    Layer[] layers) {

  /** One block's parameters ([out, in] row-major weights; biases null when the model has none). */
  record Layer(float[] inputNorm, float[] postAttentionNorm, float[] q, float[] k, float[] v,
      float[] o, float[] gate, float[] up, float[] down, float[] qBias, float[] kBias,
      float[] vBias) {}

  static HostWeights load(LlamaWeightSource model) {
    LlamaConfig config = model.config();
    CpuBackend cpu = new CpuBackend();
    float[] embedding = take(cpu, model.embedding(cpu));
    Layer[] layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      layers[i] = layer(cpu, model.block(i, cpu));
    }
    return new HostWeights(config, embedding, take(cpu, model.finalNorm(cpu)),
        config.tieWordEmbeddings() ? embedding : take(cpu, model.lmHead(cpu)), layers);
  }

  private static float[] take(Backend backend, Tensor tensor) {
    try (tensor) {
      return backend.download(tensor);
    }
  }

  private static Layer layer(Backend backend, BlockWeights block) {
    try {
      return new Layer(backend.download(block.inputNorm()),
          backend.download(block.postAttentionNorm()), weight(backend, block, Linear.Q),
          weight(backend, block, Linear.K), weight(backend, block, Linear.V),
          weight(backend, block, Linear.O), weight(backend, block, Linear.GATE),
          weight(backend, block, Linear.UP), weight(backend, block, Linear.DOWN),
          bias(backend, block, Linear.Q), bias(backend, block, Linear.K),
          bias(backend, block, Linear.V));
    } finally {
      block.closeAllBut(null);
    }
  }

  private static float[] weight(Backend backend, BlockWeights block, Linear linear) {
    return backend.download(block.weight(linear));
  }

  private static float[] bias(Backend backend, BlockWeights block, Linear linear) {
    return block.bias(linear) == null ? null : backend.download(block.bias(linear));
  }
}
