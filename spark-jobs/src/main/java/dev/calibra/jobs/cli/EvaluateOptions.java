package dev.calibra.jobs.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The options of {@code calibra evaluate}: an artifact, the evaluation data of quantize, and an
 * optional quality gate.
 *
 * @param maxPerplexity the run fails when the perplexity is above it (or not a number); null: no
 *     gate
 */
record EvaluateOptions(String artifact, String tokenizerDirectory, EvaluationSettings evaluation,
    int threads, int batchTokens, Double maxPerplexity) {

  private static final Map<String, String[]> HELP = new LinkedHashMap<>();

  static {
    HELP.put("--artifact", new String[] {"ARTIFACT", "the Arrow artifact: a local path, file:// or "
        + "hdfs:// URI (required)"});
    HELP.put("--tokenizer", new String[] {"DIR", "directory holding the artifact's tokenizer files "
        + "[default: the model directory the artifact was made from]"});
    HELP.put("--eval-text", new String[] {"FILE", "evaluation text [default: heldout.txt in the "
        + "tokenizer directory]"});
    HELP.put("--text-layout", new String[] {"paragraphs|whole", "paragraphs: split on blank lines, BOS "
        + "before each; whole: the file as one string, no BOS [default: paragraphs]"});
    HELP.put("--eval-tokens", new String[] {"FILE[#SPLIT]", "pre-tokenized evaluation sequences, each "
        + "evaluated on its own; replaces --eval-text"});
    HELP.put("--context", new String[] {"N", "predictions per evaluation window [default: the model's "
        + "max_position_embeddings]"});
    HELP.put("--windows", new String[] {"N", "evaluation windows cut from the text, 0 for all "
        + "[default: 40]"});
    HELP.put("--threads", new String[] {"N", "CPU threads [default: all available cores]"});
    HELP.put("--batch-tokens", new String[] {"N", "tokens per forward batch [default: 8192]"});
    HELP.put("--max-perplexity", new String[] {"X", "fail (exit code 1) when the perplexity is "
        + "above X: a quality gate for pipelines"});
    HELP.put("--help", new String[] {"", "print this help and exit"});
  }

  static String help() {
    return QuantizeOptions.helpText("Usage: calibra evaluate --artifact ARTIFACT [options]\n\n"
        + "Measures the perplexity of the model in an artifact, from the artifact alone (and its\n"
        + "tokenizer when the data is text), and compares it with the one recorded when it was\n"
        + "written.\n", HELP);
  }

  /** @throws IllegalArgumentException naming the bad option and what it accepts */
  static EvaluateOptions parse(String[] args) {
    Map<String, String> values = QuantizeOptions.values(args, HELP);
    if (!values.containsKey("--artifact")) {
      throw new IllegalArgumentException("--artifact is required (see --help)");
    }
    if (values.containsKey("--eval-text") && values.containsKey("--eval-tokens")) {
      throw new IllegalArgumentException("give either --eval-text or --eval-tokens, not both");
    }
    return new EvaluateOptions(values.get("--artifact"), values.get("--tokenizer"),
        new EvaluationSettings(values.get("--eval-text"),
            QuantizeOptions.parseLayout(values.getOrDefault("--text-layout", "paragraphs")),
            values.get("--eval-tokens"),
            QuantizeOptions.intOption(values, "--context", 0, 0),
            QuantizeOptions.intOption(values, "--windows", 40, 0)),
        QuantizeOptions.intOption(values, "--threads", Runtime.getRuntime().availableProcessors(), 1),
        QuantizeOptions.intOption(values, "--batch-tokens", 8192, 1),
        maxPerplexity(values.get("--max-perplexity")));
  }

  private static Double maxPerplexity(String text) {
    if (text == null) {
      return null;
    }
    try {
      double value = Double.parseDouble(text.trim());
      if (value >= 1 && Double.isFinite(value)) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--max-perplexity must be a number ≥ 1, got '" + text
        + "'");
  }
}
