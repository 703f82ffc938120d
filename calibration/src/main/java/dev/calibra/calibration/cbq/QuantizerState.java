package dev.calibra.calibration.cbq;

/**
 * The learned parameters of one layer's quantizer (see {@link LearnableLinearQuantizer}); a
 * field is null when the recipe does not learn it.
 */
public record QuantizerState(ParameterState clipLower, ParameterState clipUpper,
    ParameterState loraA, ParameterState loraB) {}
