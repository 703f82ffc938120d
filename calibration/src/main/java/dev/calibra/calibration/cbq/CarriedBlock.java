package dev.calibra.calibration.cbq;

import dev.calibra.model.llama.Linear;
import java.util.EnumMap;
import java.util.Map;

/**
 * A block that one part of a calibration trained but did not finish, handed to the part that
 * goes on with it (the overlap between the last window of one shard and the first of the next).
 */
public record CarriedBlock(int block, Map<Linear, QuantizerState> quantizers) {

  public CarriedBlock {
    quantizers = new EnumMap<>(quantizers);
  }
}
