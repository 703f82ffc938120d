package dev.calibra.calibration;

import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import java.util.Map;

/**
 * A block after quantization: the dequantized weights to run, the quantized matrices to pack
 * (uniform in {@code matrices}, vector-quantized in {@code vectorQuantized}: each layer in
 * exactly one), and each layer's relative weight error ‖W − Ŵ‖² / ‖W‖².
 */
public record QuantizedBlock(
    int index,
    BlockWeights dequantized,
    Map<Linear, QuantizedMatrix> matrices,
    Map<Linear, Double> relativeError,
    Map<Linear, VqMatrix> vectorQuantized) {

  /** A block whose layers are all uniformly quantized. */
  public QuantizedBlock(int index, BlockWeights dequantized, Map<Linear, QuantizedMatrix> matrices,
      Map<Linear, Double> relativeError) {
    this(index, dequantized, matrices, relativeError, Map.of());
  }

  /** Bits the block's quantized layers take stored, overhead (scales, codebooks) included. */
  public long storedBits() {
    return matrices.values().stream().mapToLong(QuantizedMatrix::storedBits).sum()
        + vectorQuantized.values().stream().mapToLong(VqMatrix::storedBits).sum();
  }

  /** Weights in the block's quantized layers. */
  public long quantizedWeights() {
    return matrices.values().stream().mapToLong(m -> (long) m.rows() * m.cols()).sum()
        + vectorQuantized.values().stream().mapToLong(m -> (long) m.rows() * m.cols()).sum();
  }
}
