package dev.calibra.bench.quality;

import java.util.Map;

/**
 * The GPTQ perplexities shared/README.md measured with PyTorch on the same data, and the targets
 * issue 3 sets for CBQ, keyed by model and scheme label ("w4 g32", "w3 per-channel", …).
 */
final class Baselines {

  private static final Map<String, Double> GPTQ = Map.ofEntries(
      Map.entry("stories260K w8 g32", 18.030), Map.entry("stories260K w8 per-channel", 18.141),
      Map.entry("stories260K w4 g32", 95.11), Map.entry("stories260K w4 per-channel", 146.46),
      Map.entry("stories260K w3 g32", 684.8), Map.entry("stories260K w3 per-channel", 1339.7),
      Map.entry("stories260K w2 g32", 9961.0), Map.entry("stories260K w2 per-channel", 12517.0),
      Map.entry("dict-llama-15M w8 g128", 85.103), Map.entry("dict-llama-15M w4 g128", 87.004),
      Map.entry("dict-llama-15M w4 g32", 86.478), Map.entry("dict-llama-15M w4 per-channel", 86.947),
      Map.entry("dict-llama-15M w3 g128", 90.885), Map.entry("dict-llama-15M w3 g32", 88.246),
      Map.entry("dict-llama-15M w2 g64", 138.78), Map.entry("dict-llama-15M w2 g32", 123.05));

  /** Issue 3's bars; W8 is held to 1% above the float perplexity instead (see {@link #target}). */
  private static final Map<String, Double> TARGETS = Map.of(
      "dict-llama-15M w4 g128", 85.96, "dict-llama-15M w3 g128", 88.5,
      "dict-llama-15M w2 g64", 112.0, "stories260K w4 g32", 47.5, "stories260K w3 g32", 342.0);

  private Baselines() {}

  static Double gptq(String model, String scheme) {
    return GPTQ.get(model + " " + scheme);
  }

  static Double target(String model, String scheme, double floatPerplexity) {
    if (scheme.startsWith("w8 ")) {
      return floatPerplexity * 1.01;
    }
    return TARGETS.get(model + " " + scheme);
  }
}
