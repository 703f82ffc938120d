package dev.calibra.calibration.cbq;

import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * A finished vector-quantized layer that end-to-end step-size tuning runs as it is: it learns
 * nothing, and finishes as it started.
 */
final class FrozenLayer implements LayerQuantizer {

  private final Backend backend;
  private final VqMatrix matrix;
  private final Tensor weight;

  FrozenLayer(Backend backend, VqMatrix matrix) {
    this.backend = backend;
    this.matrix = matrix;
    this.weight = backend.upload(matrix.dequantize(), matrix.rows(), matrix.cols());
  }

  @Override
  public Tensor fakeQuantize(float temperature) {
    return weight;
  }

  @Override
  public double backward(Tensor weightGradient, float regularizerWeight, float beta) {
    return 0;
  }

  @Override
  public long roundingElements() {
    return 0;
  }

  @Override
  public List<Parameter> parameters() {
    return List.of();
  }

  @Override
  public FinishedLayer finish() {
    return new FinishedLayer(backend.upload(matrix.dequantize(), matrix.rows(), matrix.cols()),
        null, matrix);
  }

  @Override
  public QuantizerState learnedState() {
    return QuantizerState.vectorQuantized(null, null);
  }

  @Override
  public void restore(QuantizerState state) {}

  @Override
  public void close() {
    weight.close();
  }
}
