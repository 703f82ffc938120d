package dev.calibra.calibration.vq;

import dev.calibra.calibration.cbq.LayerQuantizer;
import dev.calibra.calibration.cbq.LayerQuantizerFactory;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The vector-quantized part of a mixed CBQ recipe: rules giving the layers whose names match a
 * pattern VQ settings (the first matching rule wins), and how VQ layers are trained. Layers no
 * rule matches keep the CBQ recipe's uniform quantization. Written on the command line as
 * "mlp.*:d4k8,self_attn.q_proj:d2k4" ({@link #parse}).
 */
public record VqRecipe(List<Rule> rules, VqTraining training) implements LayerQuantizerFactory {

  /** Layers matching {@code pattern} are vector-quantized with {@code settings}. */
  public record Rule(LayerPattern pattern, VqSettings settings) {}

  public VqRecipe {
    rules = List.copyOf(rules);
    for (Rule rule : rules) {
      if (!rule.pattern().matchesAnyLayer()) {
        throw new IllegalArgumentException("the VQ pattern '" + rule.pattern().glob()
            + "' matches no layer (names look like self_attn.q_proj, mlp.down_proj or "
            + "layers.3.mlp.up_proj)");
      }
    }
  }

  /** Parses "PATTERN:SETTINGS[,PATTERN:SETTINGS…]", e.g. "mlp.*:d4k8,*:d2k4", with default training. */
  public static VqRecipe parse(String text) {
    List<Rule> rules = new ArrayList<>();
    for (String part : text.split(",")) {
      int colon = part.lastIndexOf(':');
      if (colon <= 0 || colon == part.length() - 1) {
        throw new IllegalArgumentException("a VQ rule is PATTERN:SETTINGS, e.g. mlp.*:d4k8; got '"
            + part + "'");
      }
      rules.add(new Rule(new LayerPattern(part.substring(0, colon).trim()),
          VqSettings.parse(part.substring(colon + 1))));
    }
    return new VqRecipe(rules, VqTraining.defaults());
  }

  public VqRecipe withTraining(VqTraining value) {
    return new VqRecipe(rules, value);
  }

  /** The settings of a layer, or empty when it stays uniform. */
  public Optional<VqSettings> settingsFor(int block, Linear linear) {
    return rules.stream().filter(r -> r.pattern().matches(block, linear)).findFirst()
        .map(Rule::settings);
  }

  /** "mlp.*:d4k8,*:d2k4": the rules as {@link #parse} reads them. */
  public String label() {
    return String.join(",", rules.stream()
        .map(r -> r.pattern().glob() + ":" + r.settings().label()).toList());
  }

  @Override
  public Map<Linear, LayerQuantizer> create(DecoderBlock block, int blockIndex,
      BlockWeights weights, List<Tensor> floatInputs, int seqLen, long seed) {
    Map<Linear, LayerQuantizer> quantizers = new EnumMap<>(Linear.class);
    ChannelSecondMoments moments = null;
    for (Linear linear : Linear.values()) {
      Optional<VqSettings> settings = settingsFor(blockIndex, linear);
      if (settings.isEmpty()) {
        continue;
      }
      if (moments == null) {
        moments = ChannelSecondMoments.collect(block, weights, floatInputs, seqLen);
      }
      long layerSeed = seed * 0x9E3779B97F4A7C15L + blockIndex * 31L + linear.ordinal();
      quantizers.put(linear, VqLayerQuantizer.create(block.backend(), weights.weight(linear),
          moments.weightsOf(linear), settings.get(), training, layerSeed));
    }
    return quantizers;
  }
}
