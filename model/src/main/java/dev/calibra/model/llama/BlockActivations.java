package dev.calibra.model.llama;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;

/**
 * What a block's forward pass keeps for its backward pass. Attention probabilities are not
 * kept: their log-normalisers are enough to rebuild them tile by tile. Inputs of linear layers
 * (normedInput, outputProjectionInput, normedResidual, hidden) are what the layers multiplied,
 * quantized when a {@link LinearInputQuantizer} is at work; outputProjectionInput is then a
 * copy of attention, which the attention backward needs unquantized.
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
    Tensor output) {}
