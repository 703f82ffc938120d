package dev.calibra.calibration.cbq;

import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.backend.Tensor;

/**
 * A layer after calibration: its hard-quantized weight on the backend, and its packed form,
 * uniform or vector-quantized (exactly one is set), whose dequantization gives the same weight
 * bit for bit.
 */
public record FinishedLayer(Tensor dequantized, QuantizedMatrix uniform,
    VqMatrix vectorQuantized) {

  public FinishedLayer {
    if ((uniform == null) == (vectorQuantized == null)) {
      throw new IllegalArgumentException("a finished layer is either uniform or vector-quantized");
    }
  }
}
