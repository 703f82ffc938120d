package dev.calibra.model.llama;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * What a block's forward pass keeps for its backward pass. Attention probabilities are not
 * kept: their log-normalisers are enough to rebuild them tile by tile. Inputs of linear layers
 * (normedInput, outputProjectionInput, normedResidual, hidden) are what the layers multiplied,
 * quantized when a {@link LinearInputQuantizer} is at work; outputProjectionInput is then a
 * copy of attention, which the attention backward needs unquantized (otherwise it is the
 * attention tensor itself). Every tensor but the input was made by the forward pass; whoever
 * holds the activations closes them when done.
 */
public record BlockActivations(
    AttentionShape shape,
    Tensor input,
    Tensor inputInvRms,
    Tensor normedInput,
    Tensor queries,
    Tensor keys,
    Tensor values,
    Tensor attention,
    Tensor attentionLogSumExp,
    Tensor outputProjectionInput,
    Tensor residual,
    Tensor residualInvRms,
    Tensor normedResidual,
    Tensor gate,
    Tensor up,
    Tensor hidden,
    Tensor output) implements AutoCloseable {

  /**
   * Releases what only the backward pass needs: every tensor but the input and the output.
   * outputProjectionInput is attention itself unless activations are quantized; closing it twice
   * is harmless.
   */
  public void releaseIntermediates() {
    for (Tensor t : List.of(inputInvRms, normedInput, queries, keys, values, attention,
        attentionLogSumExp, outputProjectionInput, residual, residualInvRms, normedResidual, gate,
        up, hidden)) {
      t.close();
    }
  }

  /** Releases every tensor the forward pass made, the output included (not the caller's input). */
  @Override
  public void close() {
    releaseIntermediates();
    output.close();
  }
}
