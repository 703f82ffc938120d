package dev.calibra.calibration.cbq;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.List;

/**
 * A calibrated model held in memory: its quantized blocks, with the embeddings, final norm and
 * output projection of the float model it came from. Blocks live on the backend they were
 * calibrated on, and are handed out as they are.
 */
public final class CalibratedModel implements LlamaWeightSource {

  private final LlamaWeightSource base;
  private final List<QuantizedBlock> blocks;
  private final int activationBits;

  /** @param activationBits bits of per-token activation quantization, 0 for float activations */
  CalibratedModel(LlamaWeightSource base, List<QuantizedBlock> blocks, int activationBits) {
    this.base = base;
    this.blocks = List.copyOf(blocks);
    this.activationBits = activationBits;
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
    return blocks.get(index).dequantized();
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
