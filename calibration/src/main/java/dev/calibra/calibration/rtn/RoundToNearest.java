package dev.calibra.calibration.rtn;

import dev.calibra.calibration.BlockQuantizer;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.WeightError;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.uniform.UniformQuantizer;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import java.util.EnumMap;
import java.util.Map;

/** The baseline: every linear weight rounded to its nearest grid point, no data involved. */
public final class RoundToNearest implements BlockQuantizer {

  private final UniformQuantizer quantizer;

  public RoundToNearest(QuantizationScheme scheme) {
    this.quantizer = new UniformQuantizer(scheme);
  }

  @Override
  public String method() {
    return "rtn";
  }

  @Override
  public QuantizedBlock quantize(int index, BlockWeights block, Backend backend) {
    Map<Linear, QuantizedMatrix> matrices = new EnumMap<>(Linear.class);
    Map<Linear, Double> errors = new EnumMap<>(Linear.class);
    BlockWeights result = block;
    for (Linear linear : Linear.values()) {
      Tensor weight = block.weight(linear);
      float[] original = backend.download(weight);
      QuantizedMatrix q = quantizer.quantize(original, weight.rows(), weight.cols());
      float[] restored = q.dequantize();
      matrices.put(linear, q);
      errors.put(linear, WeightError.relative(original, restored));
      result = result.withLinear(linear, backend.upload(restored, weight.rows(), weight.cols()));
    }
    return new QuantizedBlock(index, result, matrices, errors);
  }

  /** Quantize → dequantize of a single matrix, e.g. an output projection. */
  public Tensor roundTrip(Tensor weight, Backend backend) {
    float[] restored = quantizer.quantize(backend.download(weight), weight.rows(), weight.cols())
        .dequantize();
    return backend.upload(restored, weight.rows(), weight.cols());
  }
}
