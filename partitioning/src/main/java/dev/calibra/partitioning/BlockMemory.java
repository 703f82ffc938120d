package dev.calibra.partitioning;

import java.io.Serializable;

/**
 * Bytes one decoder block costs during calibration, by what they hold (formulas on
 * {@link MemoryModel}).
 *
 * @param floatWeights the float32 weights, kept for the shard's whole task: the base the learned
 *     quantization rounds and the weights the float targets are computed with
 * @param quantizedWeights the fake-quantized float32 copy of the linear weights the window's
 *     forward runs on
 * @param weightGradients float32 gradients of the fake-quantized linear weights, from which the
 *     learnable parameters' gradients are derived
 * @param quantizerState per group minimum and maximum of the float weights; for a VQ layer its
 *     candidates, their per-codeword lists and the row scales
 * @param learnable the learnable parameters (LoRA-Rounding A and B, two clipping factors per
 *     group; a VQ layer's candidate logits and codebooks) with their gradients and Adam's two
 *     moments
 * @param activations what the block's forward keeps for backward, for one batch
 * @param packedResult the block's finished quantized form (codes, scale and zero per group; a
 *     VQ layer's indices, codebooks and row scales), held until the shard's task writes its result
 */
public record BlockMemory(
    long floatWeights,
    long quantizedWeights,
    long weightGradients,
    long quantizerState,
    long learnable,
    long activations,
    long packedResult) implements Serializable {

  private static final long serialVersionUID = 1L;

  /** What the block adds while a window trains it, float weights aside. */
  public long training() {
    return quantizedWeights + weightGradients + quantizerState + learnable + activations;
  }
}
