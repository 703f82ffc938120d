package dev.calibra.calibration.cbq;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.List;

/**
 * A calibrated model held in memory: its quantized blocks, with the embeddings, final norm and
 * output projection of the float model it came from. Blocks live on the backend they were
 * calibrated on; asking for them on another backend copies them.
 */
public final class CalibratedModel implements LlamaWeightSource {

  private final LlamaWeightSource base;
  private final List<QuantizedBlock> blocks;
  private final LinearInputQuantizer linearInputs;

  CalibratedModel(LlamaWeightSource base, List<QuantizedBlock> blocks,
      LinearInputQuantizer linearInputs) {
    this.base = base;
    this.blocks = List.copyOf(blocks);
    this.linearInputs = linearInputs;
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
  public LinearInputQuantizer linearInputs() {
    return linearInputs;
  }
}
