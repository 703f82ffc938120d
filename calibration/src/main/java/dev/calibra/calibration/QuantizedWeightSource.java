package dev.calibra.calibration;

import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import java.util.function.Consumer;

/**
 * A model whose blocks are quantized as they are handed out: evaluating it quantizes one block
 * at a time and never holds the whole quantized model. Embeddings and norms stay float; the
 * output projection is quantized only when a quantizer for it is given.
 */
public final class QuantizedWeightSource implements LlamaWeightSource {

  private final LlamaWeightSource base;
  private final BlockQuantizer quantizer;
  private final RoundToNearest headQuantizer;
  private final Consumer<QuantizedBlock> onBlock;
  private final int activationBits;

  /**
   * @param headQuantizer quantizes lm_head, or null to keep it float
   * @param onBlock told of every quantized block (for progress and per-layer reports)
   */
  public QuantizedWeightSource(LlamaWeightSource base, BlockQuantizer quantizer,
      RoundToNearest headQuantizer, Consumer<QuantizedBlock> onBlock) {
    this(base, quantizer, headQuantizer, onBlock, 0);
  }

  /** As above, with linear-layer inputs quantized per token to {@code activationBits} (0: float). */
  public QuantizedWeightSource(LlamaWeightSource base, BlockQuantizer quantizer,
      RoundToNearest headQuantizer, Consumer<QuantizedBlock> onBlock, int activationBits) {
    this.base = base;
    this.quantizer = quantizer;
    this.headQuantizer = headQuantizer;
    this.onBlock = onBlock;
    this.activationBits = activationBits;
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
    QuantizedBlock q = quantizer.quantize(index, base.block(index, backend), backend);
    onBlock.accept(q);
    return q.dequantized();
  }

  @Override
  public Tensor finalNorm(Backend backend) {
    return base.finalNorm(backend);
  }

  @Override
  public LinearInputQuantizer linearInputs(Backend backend) {
    return activationBits == 0 ? LinearInputQuantizer.NONE
        : ActivationFakeQuantizer.forEvaluation(backend, activationBits);
  }

  @Override
  public Tensor lmHead(Backend backend) {
    Tensor head = base.lmHead(backend);
    return headQuantizer == null ? head : headQuantizer.roundTrip(head, backend);
  }
}
