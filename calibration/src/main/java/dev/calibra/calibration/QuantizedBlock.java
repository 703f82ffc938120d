package dev.calibra.calibration;

import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import java.util.Map;

/**
 * A block after quantization: the dequantized weights to run, the quantized matrices to pack,
 * and each layer's relative weight error ‖W − Ŵ‖² / ‖W‖².
 */
public record QuantizedBlock(
    int index,
    BlockWeights dequantized,
    Map<Linear, QuantizedMatrix> matrices,
    Map<Linear, Double> relativeError) {}
