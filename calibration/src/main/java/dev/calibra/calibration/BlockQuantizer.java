package dev.calibra.calibration;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.llama.BlockWeights;

/** Quantizes the linear layers of one decoder block. */
public interface BlockQuantizer {

  /** What reports call the method, e.g. "rtn". */
  String method();

  QuantizedBlock quantize(int index, BlockWeights block, Backend backend);
}
