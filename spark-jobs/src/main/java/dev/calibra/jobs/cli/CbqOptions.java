package dev.calibra.jobs.cli;

import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.vq.VqRecipe;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The options of {@code calibra quantize --method cbq}: where the calibration samples come from,
 * and the recipe settings a user may change (every other one keeps its documented default, see
 * calibration/CBQ.md). Unset numbers are null and leave the default alone.
 */
record CbqOptions(
    String calibText,
    String calibTokens,
    int samples,
    int generated,
    int seqLen,
    Integer epochs,
    Integer batchSize,
    Integer loraRank,
    Integer windowSize,
    Integer overlap,
    Float klWeight,
    Float logitLossWeight,
    Integer endToEndEpochs,
    Float endToEndWeightLearningRate,
    boolean noLearnedClipping,
    boolean noPreprocessing,
    boolean rotate,
    int activationBits,
    long seed,
    String vq,
    Integer vqCandidates) {

  static final String DEFAULT_CALIBRATION_TEXT = "calibration.txt";
  static final int DEFAULT_SAMPLES = 128;
  static final int DEFAULT_SEQ_LEN = 512;
  static final String END_TO_END_OPTION = "--e2e-epochs";

  /** Option name → (value placeholder, help text), in --help order. */
  static final Map<String, String[]> HELP = new LinkedHashMap<>();

  static {
    HELP.put("--calib-text", new String[] {"FILE", "cbq: calibration text, tokenized paragraph by "
        + "paragraph; text of the kind the model serves that was not in its training data "
        + "calibrates best (see calibration/CBQ.md) [default: " + DEFAULT_CALIBRATION_TEXT
        + " in the model directory]"});
    HELP.put("--calib-tokens", new String[] {"FILE[#SPLIT]", "cbq: pre-tokenized calibration "
        + "sequences (JSONL, Parquet, or JSON with named splits); replaces --calib-text"});
    HELP.put("--calib-samples", new String[] {"N", "cbq: calibration samples: windows spread "
        + "evenly over the whole calibration text, so that every part of it is represented, or "
        + "the first N pre-tokenized sequences [default: " + DEFAULT_SAMPLES + "]"});
    HELP.put("--calib-generated", new String[] {"N", "cbq: N more calibration samples written by "
        + "the float model itself (sampled at temperature 1 from BOS, on the CPU, fixed by "
        + "--seed), after the --calib-samples of the text or tokens; with --calib-samples 0 the "
        + "only ones (see calibration/CBQ.md, \"Calibration data\") [default: 0]"});
    HELP.put("--calib-seq-len", new String[] {"N", "cbq: tokens per calibration sample [default: "
        + DEFAULT_SEQ_LEN + ", at most the model's context; pre-tokenized sequences keep their "
        + "length unless it is given]"});
    HELP.put("--epochs", new String[] {"N", "cbq: passes over the samples per window"});
    HELP.put("--batch-size", new String[] {"N", "cbq: samples per optimisation step"});
    HELP.put("--lora-rank", new String[] {"N", "cbq: rank of the LoRA-Rounding factors; 0 rounds to "
        + "nearest"});
    HELP.put("--window", new String[] {"W", "cbq: blocks per calibration window"});
    HELP.put("--overlap", new String[] {"O", "cbq: blocks shared by consecutive windows"});
    HELP.put("--kl-weight", new String[] {"X", "cbq: weight of the KL-divergence loss term, 0 "
        + "disables it"});
    HELP.put("--logit-loss", new String[] {"X", "cbq: weight of the KL loss on the model's logits "
        + "in the last window, 0 disables it"});
    HELP.put(END_TO_END_OPTION, new String[] {"N", "cbq: passes of end-to-end tuning after the "
        + "windows (group steps, codes on the windows' grid and VQ codebooks learned against the "
        + "model's logits; VQ indices kept), 0 skips it [default: 4]"});
    HELP.put("--e2e-weights", new String[] {"X", "cbq: learning rate of the latent weights that "
        + "let the end-to-end pass move codes, in grid steps per update; 0 keeps the windows' "
        + "codes [default: 0.01]"});
    HELP.put("--no-lwc", new String[] {"", "cbq: keep each group's full range (no learned clipping)"});
    HELP.put("--no-cfp", new String[] {"", "cbq: no coarse-to-fine outlier pre-processing"});
    HELP.put("--rotate", new String[] {"", "cbq: rotate the residual stream and each value head by "
        + "random orthogonal matrices first (the float model's output is unchanged; the artifact "
        + "gets an output projection of its own); helps models with uneven weights most"});
    HELP.put("--act-bits", new String[] {"N", "cbq: also quantize linear-layer inputs per token to N "
        + "bits (8 for W4A8, 4 for W4A4) [default: 0, float activations]"});
    HELP.put("--seed", new String[] {"N", "cbq: seed of every random choice [default: 0]"});
    HELP.put("--vq", new String[] {"RULES", "cbq: vector-quantize the layers matching each rule "
        + "PATTERN:dDkK (sub-vectors of D input columns, 2^K codewords per layer, a float16 scale "
        + "per row; dDkKrR a codebook per R rows; dDkK-unscaled no scales), the first match wins, "
        + "others stay uniform: '*:d4k8' (every layer), 'mlp.*:d4k8' (a mixed recipe), "
        + "'layers.0.*:d2k4,*:d4k7r96' (see calibration/VQ.md)"});
    HELP.put("--vq-candidates", new String[] {"N", "cbq: nearest codewords each sub-vector may "
        + "choose among during assignment calibration, 1 to 8 [default: 4]"});
  }

  /** The CBQ options among parsed {@code values}; refuses them when the method is not cbq. */
  static CbqOptions parse(Map<String, String> values, String method) {
    if (!method.equals("cbq")) {
      for (String name : HELP.keySet()) {
        if (values.containsKey(name)) {
          throw new IllegalArgumentException(name + " applies to --method cbq only");
        }
      }
      return null;
    }
    if (values.containsKey("--calib-text") && values.containsKey("--calib-tokens")) {
      throw new IllegalArgumentException("give either --calib-text or --calib-tokens, not both");
    }
    CbqOptions options = new CbqOptions(
        values.get("--calib-text"),
        values.get("--calib-tokens"),
        QuantizeOptions.intOption(values, "--calib-samples", DEFAULT_SAMPLES, 0),
        QuantizeOptions.intOption(values, "--calib-generated", 0, 0),
        QuantizeOptions.intOption(values, "--calib-seq-len", 0, 2),
        optionalInt(values, "--epochs", 0),
        optionalInt(values, "--batch-size", 1),
        optionalInt(values, "--lora-rank", 0),
        optionalInt(values, "--window", 1),
        optionalInt(values, "--overlap", 0),
        optionalFloat(values, "--kl-weight"),
        optionalFloat(values, "--logit-loss"),
        optionalInt(values, END_TO_END_OPTION, 0),
        optionalFloat(values, "--e2e-weights"),
        values.containsKey("--no-lwc"),
        values.containsKey("--no-cfp"),
        values.containsKey("--rotate"),
        QuantizeOptions.intOption(values, "--act-bits", 0, 0),
        QuantizeOptions.intOption(values, "--seed", 0, 0),
        values.get("--vq"),
        optionalInt(values, "--vq-candidates", 1));
    if (options.samples() + options.generated() == 0) {
      throw new IllegalArgumentException("no calibration samples: --calib-samples 0 needs "
          + "--calib-generated N");
    }
    if (options.vqCandidates() != null && options.vq() == null) {
      throw new IllegalArgumentException("--vq-candidates applies to --vq only");
    }
    options.vqRecipe(); // a bad rule fails here, before any model is loaded
    // Builds a recipe once now, so that inconsistent settings (an overlap as large as the
    // window, say) fail before any model is loaded; the weight scheme plays no part in that.
    options.recipe(new QuantizationScheme(QuantizationScheme.MAX_BITS,
        QuantizationScheme.PER_CHANNEL));
    return options;
  }

  /** The default recipe for {@code scheme} with these options applied. */
  CbqRecipe recipe(QuantizationScheme scheme) {
    CbqRecipe defaults = CbqRecipe.defaults(scheme);
    CbqRecipe.Builder b = defaults.toBuilder();
    if (epochs != null) {
      b.epochs(epochs);
    }
    if (batchSize != null) {
      b.batchSize(batchSize);
    }
    if (loraRank != null) {
      b.loraRank(loraRank);
    }
    if (windowSize != null || overlap != null) {
      int size = windowSize != null ? windowSize : defaults.windowSize();
      b.window(size, overlap != null ? overlap : Math.min(defaults.overlap(), size - 1));
    }
    if (klWeight != null) {
      b.kl(klWeight, defaults.klTemperature());
    }
    if (logitLossWeight != null) {
      b.logitLoss(logitLossWeight);
    }
    if (endToEndEpochs != null) {
      b.endToEnd(endToEndEpochs, defaults.endToEndLearningRate());
    }
    if (endToEndWeightLearningRate != null) {
      b.endToEndWeightLearningRate(endToEndWeightLearningRate);
    }
    if (noLearnedClipping) {
      b.learnClipping(false);
    }
    if (noPreprocessing) {
      b.preprocessing(false, false);
    }
    if (rotate) {
      b.rotate(true);
    }
    if (activationBits > 0) {
      b.activations(activationBits, defaults.dropProbability());
    }
    return b.seed(seed).build();
  }

  /** The vector-quantized part of a mixed recipe, or null when every layer is uniform. */
  VqRecipe vqRecipe() {
    if (vq == null) {
      return null;
    }
    VqRecipe recipe = VqRecipe.parse(vq);
    return vqCandidates == null ? recipe
        : recipe.withTraining(recipe.training().withCandidates(vqCandidates));
  }

  private static Integer optionalInt(Map<String, String> values, String name, int min) {
    return values.containsKey(name) ? QuantizeOptions.intOption(values, name, 0, min) : null;
  }

  private static Float optionalFloat(Map<String, String> values, String name) {
    String text = values.get(name);
    if (text == null) {
      return null;
    }
    try {
      float value = Float.parseFloat(text.trim());
      if (value >= 0 && Float.isFinite(value)) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be a number ≥ 0, got '"
        + text.toLowerCase(Locale.ROOT) + "'");
  }
}
