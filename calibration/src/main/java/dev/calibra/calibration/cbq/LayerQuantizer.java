package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * What a calibration window trains for one linear layer: a fake-quantized weight for the forward
 * pass, the gradients of its parameters from the weight's gradient, and in the end the layer's
 * quantized form. Uniform quantization ({@link LearnableLinearQuantizer}) and vector quantization
 * (dev.calibra.calibration.vq) implement it, so one window can train both kinds side by side.
 */
public interface LayerQuantizer {

  /**
   * The soft fake-quantized weight for the next forward pass, valid until the next call;
   * {@code temperature} falls from 1 towards 0 over a window, sharpening soft choices into the
   * hard ones the finished layer keeps.
   */
  Tensor fakeQuantize(float temperature);

  /**
   * Accumulates the loss's gradients into {@link #parameters()} given dŴ for the weight
   * {@link #fakeQuantize} last returned, plus {@code regularizerWeight} times the rounding
   * regulariser at exponent {@code beta} where the quantizer has one; returns the regulariser's
   * unweighted sum (0 without one).
   */
  double backward(Tensor weightGradient, float regularizerWeight, float beta);

  /** Rounding decisions the regulariser covers (0 without one): it is normalised by their count. */
  default long roundingElements() {
    return 0;
  }

  /** The learned parameters, which the window's optimiser updates. */
  List<Parameter> parameters();

  /** The hard-quantized layer, with the current parameters. */
  FinishedLayer finish();

  /** The learned parameters, for handing the layer to another part of the calibration. */
  QuantizerState learnedState();

  /** Takes over the parameters of a quantizer made by the same recipe for the same weight. */
  void restore(QuantizerState state);

  /** Releases every tensor of the quantizer; the weights {@link #finish} handed out stay. */
  void close();
}
