package dev.calibra.calibration.cbq;

/**
 * The learned parameters of one layer's quantizer; a field is null when the quantizer does not
 * learn it. Uniform layers ({@link LearnableLinearQuantizer}) learn clip logits and LoRA-Rounding
 * factors, vector-quantized ones (dev.calibra.calibration.vq) assignment logits and a codebook.
 */
public record QuantizerState(ParameterState clipLower, ParameterState clipUpper,
    ParameterState loraA, ParameterState loraB, ParameterState assignmentLogits,
    ParameterState codebook) {

  /** The state of a uniform layer. */
  public QuantizerState(ParameterState clipLower, ParameterState clipUpper, ParameterState loraA,
      ParameterState loraB) {
    this(clipLower, clipUpper, loraA, loraB, null, null);
  }

  /** The state of a vector-quantized layer. */
  public static QuantizerState vectorQuantized(ParameterState assignmentLogits,
      ParameterState codebook) {
    return new QuantizerState(null, null, null, null, assignmentLogits, codebook);
  }
}
