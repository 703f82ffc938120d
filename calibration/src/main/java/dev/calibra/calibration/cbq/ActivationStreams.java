package dev.calibra.calibration.cbq;

import dev.calibra.model.backend.Tensor;
import java.util.List;

/**
 * The hidden states of every calibration sample at the input of one block: as the float model
 * computes them, and as the already quantized blocks before it do. Each tensor is one batch of
 * whole samples, batch·seqLen rows × hidden; both lists hold the same samples in the same order.
 */
public record ActivationStreams(int block, List<Tensor> floatStream, List<Tensor> quantizedStream,
    int seqLen) {

  public ActivationStreams {
    floatStream = List.copyOf(floatStream);
    quantizedStream = List.copyOf(quantizedStream);
    if (floatStream.size() != quantizedStream.size()) {
      throw new IllegalArgumentException(floatStream.size() + " float batches but "
          + quantizedStream.size() + " quantized ones");
    }
    for (int i = 0; i < floatStream.size(); i++) {
      Tensor f = floatStream.get(i);
      Tensor q = quantizedStream.get(i);
      if (f.rows() != q.rows() || f.cols() != q.cols() || f.rows() % seqLen != 0) {
        throw new IllegalArgumentException("batch " + i + ": float " + f.shapeText()
            + " and quantized " + q.shapeText() + " must match and hold whole samples of "
            + seqLen + " tokens");
      }
    }
  }
}
