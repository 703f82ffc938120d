package dev.calibra.model.llama;

import dev.calibra.model.backend.Tensor;

/**
 * Decides what a block's linear layers multiply: their float input, or a fake-quantized copy
 * of it (weight-and-activation schemes such as W4A8). One input feeds several layers (q, k and v
 * share the normed input; gate and up share theirs), so it is quantized once, for the first of
 * them. Gradients pass through unchanged (straight-through), so there is no backward.
 */
@FunctionalInterface
public interface LinearInputQuantizer {

  /** Float activations throughout. */
  LinearInputQuantizer NONE = (input, firstConsumer) -> input;

  /** The tensor the layer multiplies: {@code input} itself, or a new quantized tensor. */
  Tensor quantize(Tensor input, Linear firstConsumer);
}
