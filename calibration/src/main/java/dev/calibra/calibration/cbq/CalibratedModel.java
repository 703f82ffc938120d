package dev.calibra.calibration.cbq;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A calibrated model held in memory: its quantized blocks, with the embeddings, final norm and
 * output projection of the float model it came from. Blocks live on the backend they were
 * calibrated on; {@link #block} hands out a fresh copy on every call, as the
 * {@link LlamaWeightSource} contract says, since callers such as the layerwise runner close the
 * weights they were given.
 */
public final class CalibratedModel implements LlamaWeightSource {

  private final LlamaWeightSource base;
  private final List<QuantizedBlock> blocks;
  private final int activationBits;
  private final Backend owner;

  /**
   * @param activationBits bits of per-token activation quantization, 0 for float activations
   * @param owner the backend the blocks' tensors live on
   */
  public CalibratedModel(LlamaWeightSource base, List<QuantizedBlock> blocks, int activationBits,
      Backend owner) {
    this.base = base;
    this.blocks = List.copyOf(blocks);
    this.activationBits = activationBits;
    this.owner = owner;
  }

  /** The quantized blocks in order, with their integer weights for packing. */
  public List<QuantizedBlock> blocks() {
    return blocks;
  }

  @Override
  public LlamaConfig config() {
    return base.config();
  }

  @Override
  public Tensor embedding(Backend backend) {
    return base.embedding(backend);
  }

  @Override
  public BlockWeights block(int index, Backend backend) {
    BlockWeights stored = blocks.get(index).dequantized();
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      weights.put(linear, copy(stored.weight(linear), backend));
      if (stored.bias(linear) != null) {
        biases.put(linear, copy(stored.bias(linear), backend));
      }
    }
    return new BlockWeights(config(), copy(stored.inputNorm(), backend),
        copy(stored.postAttentionNorm(), backend), weights, biases);
  }

  /** A copy of a stored tensor on {@code backend}: on the device when it is the owner's. */
  private Tensor copy(Tensor stored, Backend backend) {
    if (backend == owner) {
      Tensor copy = backend.zeros(stored.rows(), stored.cols());
      backend.copy(stored, copy);
      return copy;
    }
    return backend.upload(owner.download(stored), stored.rows(), stored.cols());
  }

  @Override
  public Tensor finalNorm(Backend backend) {
    return base.finalNorm(backend);
  }

  @Override
  public Tensor lmHead(Backend backend) {
    return base.lmHead(backend);
  }

  @Override
  public LinearInputQuantizer linearInputs(Backend backend) {
    return activationBits == 0 ? LinearInputQuantizer.NONE
        : ActivationFakeQuantizer.forEvaluation(backend, activationBits);
  }
}
