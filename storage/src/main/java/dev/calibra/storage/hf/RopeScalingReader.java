package dev.calibra.storage.hf;

import dev.calibra.model.llama.RopeScaling;
import dev.calibra.storage.FileContentException;
import java.util.Optional;

/**
 * Reads the rotary embedding settings of a config.json in both layouts transformers has used:
 * version 4 puts {@code rope_theta} at the top level and the scaling rule in
 * {@code rope_scaling}; version 5 puts both in {@code rope_parameters}.
 */
final class RopeScalingReader {

  /** transformers' default base for llama, mistral and qwen2 when a config names none. */
  private static final double DEFAULT_THETA = 10_000.0;

  private RopeScalingReader() {
  }

  static RopeScaling read(ConfigFields config) throws FileContentException {
    Optional<ConfigFields> parameters = config.optionalObject("rope_parameters");
    Optional<ConfigFields> scaling = config.optionalObject("rope_scaling");
    double theta = theta(config, parameters);
    // rope_scaling, when present, is the older and more specific of the two.
    Optional<ConfigFields> rule = scaling.isPresent() ? scaling : parameters;
    String type = "default";
    if (rule.isPresent()) {
      Optional<String> ropeType = rule.get().optionalString("rope_type");
      type = ropeType.isPresent() ? ropeType.get()
          : rule.get().optionalString("type").orElse("default");
    }
    try {
      return switch (type) {
        case "default" -> RopeScaling.standard(theta);
        case "linear" -> new RopeScaling("linear", theta, rule.get().requiredDouble("factor"),
            1.0, 1.0, 0);
        case "llama3" -> new RopeScaling("llama3", theta, rule.get().requiredDouble("factor"),
            rule.get().requiredDouble("low_freq_factor"),
            rule.get().requiredDouble("high_freq_factor"),
            rule.get().requiredInt("original_max_position_embeddings"));
        default -> throw new FileContentException(config.file() + ": rope type '" + type
            + "' is not supported (supported: default, linear, llama3)");
      };
    } catch (IllegalArgumentException e) {
      throw new FileContentException(config.file() + ": " + e.getMessage(), e);
    }
  }

  private static double theta(ConfigFields config, Optional<ConfigFields> parameters)
      throws FileContentException {
    Optional<Double> topLevel = config.optionalDouble("rope_theta");
    Optional<Double> nested = parameters.isPresent()
        ? parameters.get().optionalDouble("rope_theta") : Optional.empty();
    if (topLevel.isPresent() && nested.isPresent() && !topLevel.equals(nested)) {
      throw new FileContentException(config.file() + ": rope_theta " + topLevel.get()
          + " and rope_parameters.rope_theta " + nested.get()
          + " disagree; expected one value");
    }
    return nested.or(() -> topLevel).orElse(DEFAULT_THETA);
  }
}
