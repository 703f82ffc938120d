package dev.calibra.model.llama;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A run of consecutive decoder blocks trained together: the unit of cross-block calibration.
 * Forward keeps every block's activations; backward walks them in reverse.
 */
public final class BlockWindow {

  private final DecoderBlock block;
  private final List<BlockWeights> weights;

  public BlockWindow(DecoderBlock block, List<BlockWeights> weights) {
    if (weights.isEmpty()) {
      throw new IllegalArgumentException("a block window needs at least one block");
    }
    this.block = block;
    this.weights = List.copyOf(weights);
  }

  public int size() {
    return weights.size();
  }

  /**
   * Activations of each block in order; the last one's output is the window's output. The caller
   * closes them (each {@link BlockActivations#close()}) once backward is done.
   */
  public List<BlockActivations> forward(Tensor input, AttentionShape shape) {
    return forward(input, shape, LinearInputQuantizer.NONE);
  }

  /** As {@link #forward(Tensor, AttentionShape)}, with the linear inputs quantized as asked. */
  public List<BlockActivations> forward(Tensor input, AttentionShape shape,
      LinearInputQuantizer inputs) {
    List<BlockActivations> activations = new ArrayList<>(weights.size());
    Tensor x = input;
    for (BlockWeights w : weights) {
      BlockActivations a = block.forward(w, x, shape, inputs);
      activations.add(a);
      x = a.output();
    }
    return activations;
  }

  /**
   * Gradient at the window input, given the gradient at its output; parameter gradients of
   * block i go to {@code gradients.get(i)}.
   */
  public Tensor backward(List<BlockActivations> activations, Tensor dOutput,
      List<BlockGradients> gradients) {
    if (activations.size() != weights.size() || gradients.size() != weights.size()) {
      throw new IllegalArgumentException("window of " + weights.size() + " blocks got "
          + activations.size() + " activations and " + gradients.size() + " gradient sets");
    }
    Tensor d = dOutput;
    for (int i = weights.size() - 1; i >= 0; i--) {
      Tensor next = block.backward(weights.get(i), activations.get(i), d, gradients.get(i));
      if (d != dOutput) {
        d.close();  // the gradient between two blocks of the window
      }
      d = next;
    }
    return d;
  }
}
