package dev.calibra.model.llama;

/**
 * How rotary frequencies are derived: the base {@code theta} and an optional scaling rule.
 *
 * <p>Supported {@code type}s are those of Hugging Face's Llama family: "default" (plain
 * theta^(-2i/d)), "linear" (positions divided by {@code factor}) and "llama3" (Llama 3.1's
 * wavelength-dependent interpolation between the original and the scaled frequencies).
 */
public record RopeScaling(
    String type,
    double theta,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositions) {

  public static RopeScaling standard(double theta) {
    return new RopeScaling("default", theta, 1.0, 1.0, 1.0, 0);
  }

  public RopeScaling {
    if (!(theta > 1)) {
      throw new IllegalArgumentException("rope_theta must be greater than 1, got " + theta);
    }
    switch (type) {
      case "default" -> { }
      case "linear" -> {
        if (!(factor > 0)) {
          throw new IllegalArgumentException("linear rope scaling needs factor > 0, got " + factor);
        }
      }
      case "llama3" -> {
        if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)
            || originalMaxPositions <= 0) {
          throw new IllegalArgumentException("llama3 rope scaling needs factor > 0, "
              + "0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0");
        }
      }
      default -> throw new IllegalArgumentException("unsupported rope scaling type '" + type
          + "' (supported: default, linear, llama3)");
    }
  }

  /** Inverse frequency of rotary pair i for heads of width headDim. */
  public double inverseFrequency(int i, int headDim) {
    double base = Math.pow(theta, -2.0 * i / headDim);
    return switch (type) {
      case "linear" -> base / factor;
      case "llama3" -> llama3(base);
      default -> base;
    };
  }

  private double llama3(double frequency) {
    double wavelength = 2 * Math.PI / frequency;
    double lowFreqWavelength = originalMaxPositions / lowFreqFactor;
    double highFreqWavelength = originalMaxPositions / highFreqFactor;
    if (wavelength < highFreqWavelength) {
      return frequency;
    }
    if (wavelength > lowFreqWavelength) {
      return frequency / factor;
    }
    double smooth = (originalMaxPositions / wavelength - lowFreqFactor)
        / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * frequency / factor + smooth * frequency;
  }
}
