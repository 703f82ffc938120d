package dev.calibra.calibration.cbq;

/**
 * The learned parameters of one layer's quantizer; a field is null when the quantizer does not
 * learn it. Uniform layers ({@link LearnableLinearQuantizer}) learn clip logits and LoRA-Rounding
 * factors, vector-quantized ones (dev.calibra.calibration.vq) assignment logits and a codebook,
 * finished uniform layers in the end-to-end pass the logarithm of each group's step factor
 * ({@link GroupScaleTuner}), and with it a latent weight ({@link LatentWeightTuner}).
 */
public record QuantizerState(ParameterState clipLower, ParameterState clipUpper,
    ParameterState loraA, ParameterState loraB, ParameterState assignmentLogits,
    ParameterState codebook, ParameterState groupLogScale, ParameterState latentWeight) {

  /** The state of a uniform layer. */
  public QuantizerState(ParameterState clipLower, ParameterState clipUpper, ParameterState loraA,
      ParameterState loraB) {
    this(clipLower, clipUpper, loraA, loraB, null, null, null, null);
  }

  /** The state of a vector-quantized layer. */
  public static QuantizerState vectorQuantized(ParameterState assignmentLogits,
      ParameterState codebook) {
    return new QuantizerState(null, null, null, null, assignmentLogits, codebook, null, null);
  }

  /** The state of a finished uniform layer whose group steps are tuned end to end. */
  public static QuantizerState groupScales(ParameterState groupLogScale) {
    return new QuantizerState(null, null, null, null, null, null, groupLogScale, null);
  }

  /** The state of a finished uniform layer whose latent weights and group steps are tuned. */
  public static QuantizerState latentWeights(ParameterState latentWeight,
      ParameterState groupLogScale) {
    return new QuantizerState(null, null, null, null, null, null, groupLogScale, latentWeight);
  }
}
