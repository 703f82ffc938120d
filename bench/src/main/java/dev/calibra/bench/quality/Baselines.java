package dev.calibra.bench.quality;

import dev.calibra.calibration.uniform.QuantizationScheme;
import java.util.List;
import java.util.Map;

/**
 * The GPTQ perplexities shared/README.md measured with PyTorch on the same data, and the targets
 * issue 3 sets for CBQ, keyed by model and scheme label ("w4 g32", "w3 per-channel", …).
 */
final class Baselines {

  /**
   * A row of shared/README.md's GPTQ column.
   *
   * @param samplesKnown whether the reference ran on exactly the samples a benchmark has: true
   *     for token splits (stories260K); false for dict-llama-15M, whose reference does not say
   *     which 128 windows of calibration.txt it took (GPTQ moves by up to 2% with them)
   */
  record Gptq(String model, QuantizationScheme scheme, double perplexity, boolean samplesKnown) {}

  private static final int PC = QuantizationScheme.PER_CHANNEL;

  static final List<Gptq> GPTQ = List.of(
      gptq("stories260K", 8, 32, 18.030), gptq("stories260K", 8, PC, 18.141),
      gptq("stories260K", 4, 32, 95.11), gptq("stories260K", 4, PC, 146.46),
      gptq("stories260K", 3, 32, 684.8), gptq("stories260K", 3, PC, 1339.7),
      gptq("stories260K", 2, 32, 9961.0), gptq("stories260K", 2, PC, 12517.0),
      gptq("dict-llama-15M", 8, 128, 85.103), gptq("dict-llama-15M", 4, 128, 87.004),
      gptq("dict-llama-15M", 4, 32, 86.478), gptq("dict-llama-15M", 4, PC, 86.947),
      gptq("dict-llama-15M", 3, 128, 90.885), gptq("dict-llama-15M", 3, 32, 88.246),
      gptq("dict-llama-15M", 2, 64, 138.78), gptq("dict-llama-15M", 2, 32, 123.05));

  /** Issue 3's bars; W8 is held to 1% above the float perplexity instead (see {@link #target}). */
  private static final Map<String, Double> TARGETS = Map.of(
      "dict-llama-15M w4 g128", 85.96, "dict-llama-15M w3 g128", 88.5,
      "dict-llama-15M w2 g64", 112.0, "stories260K w4 g32", 47.5, "stories260K w3 g32", 342.0);

  private Baselines() {}

  /** shared/README.md's GPTQ perplexity for a scheme label ("w4 g32"), or null. */
  static Double gptq(String model, String scheme) {
    return GPTQ.stream()
        .filter(g -> g.model().equals(model) && g.scheme().label().equals(scheme))
        .map(Gptq::perplexity).findFirst().orElse(null);
  }

  private static Gptq gptq(String model, int bits, int group, double perplexity) {
    return new Gptq(model, new QuantizationScheme(bits, group), perplexity,
        model.equals("stories260K"));
  }

  static Double target(String model, String scheme, double floatPerplexity) {
    if (scheme.startsWith("w8 ")) {
      return floatPerplexity * 1.01;
    }
    return TARGETS.get(model + " " + scheme);
  }
}
