package dev.calibra.jobs.cli;

import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.kernels.Backends;
import dev.calibra.kernels.cuda.MatmulPrecision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options of {@code calibra quantize}, parsed and checked. Defaults give the README's first
 * command: RTN W4 g128 of the dict-llama-15M model, evaluated on its held-out text; the CBQ
 * options live in {@link CbqOptions}.
 */
public record QuantizeOptions(
    String model,
    String evalText,
    TextLayout textLayout,
    String evalTokens,
    int contextLength,
    int windows,
    String method,
    List<QuantizationScheme> schemes,
    boolean quantizeLmHead,
    String backend,
    String gpuPrecision,
    int threads,
    int batchTokens,
    String report,
    boolean skipFloat,
    String output,
    boolean overwrite,
    CbqOptions cbq) {

  /** How a text file becomes one token stream (see shared/README.md for both protocols). */
  public enum TextLayout {
    /** Split on blank lines, BOS before each paragraph. */
    PARAGRAPHS,
    /** The whole file as one string, no BOS. */
    WHOLE
  }

  static final String DEFAULT_MODEL = "../shared/models/dict-llama-15M";

  /** Option name → (value placeholder, help text); the order is the order of --help. */
  private static final Map<String, String[]> HELP = new LinkedHashMap<>();

  static {
    HELP.put("--model", new String[] {"DIR", "model directory: config.json, *.safetensors, tokenizer; "
        + "a local path, file:// or hdfs:// URI [default: " + DEFAULT_MODEL + "]"});
    HELP.put("--eval-text", new String[] {"FILE", "evaluation text [default: heldout.txt in the model "
        + "directory]"});
    HELP.put("--text-layout", new String[] {"paragraphs|whole", "paragraphs: split on blank lines, BOS "
        + "before each; whole: the file as one string, no BOS [default: paragraphs]"});
    HELP.put("--eval-tokens", new String[] {"FILE[#SPLIT]", "pre-tokenized evaluation sequences (JSONL, "
        + "Parquet, or JSON with named splits), each evaluated on its own; replaces --eval-text"});
    HELP.put("--context", new String[] {"N", "predictions per evaluation window [default: the model's "
        + "max_position_embeddings]"});
    HELP.put("--windows", new String[] {"N", "evaluation windows cut from the text, 0 for all "
        + "[default: 40]"});
    HELP.put(RecipeFile.OPTION, RecipeFile.HELP);
    HELP.put("--method", new String[] {"rtn|cbq", "rtn: round to nearest; cbq: cross-block "
        + "reconstruction calibrated on --calib-text (see the cbq options below) [default: rtn]"});
    HELP.put("--bits", new String[] {"LIST", "comma-separated bits per weight, 2 to 8 [default: 4]"});
    HELP.put("--group", new String[] {"LIST", "comma-separated group sizes or per-channel; every bits × "
        + "group pair is run [default: 128]"});
    HELP.put("--quantize-lm-head", new String[] {"", "quantize the output projection too (kept float by "
        + "default; embeddings and norms always stay float)"});
    HELP.put("--backend", new String[] {"auto|cpu|cuda", "compute backend; auto takes the GPU when one "
        + "is usable [default: cpu]"});
    HELP.put("--gpu-precision", new String[] {"bf16|fp32", "inputs of the GPU's matrix products: bf16 "
        + "on the tensor cores, or exact fp32 [default: bf16]"});
    HELP.put("--threads", new String[] {"N", "CPU threads [default: all available cores]"});
    HELP.put("--batch-tokens", new String[] {"N", "tokens per forward batch, bounds activation memory "
        + "[default: 8192]"});
    HELP.put("--report", new String[] {"FILE", "where the JSON report goes [default: "
        + "calibra-report.json]"});
    HELP.put("--skip-float", new String[] {"", "do not evaluate the float model"});
    HELP.put("--output", new String[] {"ARTIFACT", "also write the quantized model as an Arrow artifact "
        + "(a local path, file:// or hdfs:// URI; needs exactly one bits × group scheme)"});
    HELP.put("--overwrite", new String[] {"", "replace an existing --output artifact"});
    HELP.putAll(CbqOptions.HELP);
    HELP.put("--help", new String[] {"", "print this help and exit"});
  }

  public static String help() {
    return helpText("Usage: calibra quantize [options]\n\n"
        + "Loads a Llama-family model, quantizes its linear layers, and measures perplexity before\n"
        + "and after. Prints a line per block and a final table; writes a JSON report.\n", HELP);
  }

  /** A command's help: its description, then one line per option of {@code help}. */
  static String helpText(String description, Map<String, String[]> help) {
    StringBuilder text = new StringBuilder(description + "\nOptions:\n");
    for (Map.Entry<String, String[]> e : help.entrySet()) {
      String head = e.getKey() + (e.getValue()[0].isEmpty() ? "" : " " + e.getValue()[0]);
      text.append(String.format(Locale.ROOT, "  %-28s %s%n", head, e.getValue()[1]));
    }
    return text.toString();
  }

  /** Whether the arguments ask for help rather than a run. */
  public static boolean wantsHelp(String[] args) {
    for (String arg : args) {
      if (arg.equals("--help") || arg.equals("-h")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Option name → value of {@code args}, checked against {@code options} (name → [value
   * placeholder, help]); flags without a placeholder get "true". A command that takes
   * {@code --recipe} gets the recipe file's options, which those given after them override.
   */
  static Map<String, String> values(String[] args, Map<String, String[]> options) {
    if (options.containsKey(RecipeFile.OPTION)) {
      args = RecipeFile.expand(args, options);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      String[] help = options.get(name);
      if (help == null) {
        throw new IllegalArgumentException("unknown option '" + arg + "' (see --help)");
      }
      if (help[0].isEmpty()) {
        if (value != null) {
          throw new IllegalArgumentException(name + " takes no value");
        }
        value = "true";
      } else if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(name + " needs a value: " + help[0]);
        }
        value = args[++i];
      }
      values.put(name, value);
    }
    return values;
  }

  /** @throws IllegalArgumentException naming the bad option and what it accepts */
  public static QuantizeOptions parse(String[] args) {
    Map<String, String> values = values(args, HELP);
    String method = values.getOrDefault("--method", "rtn").toLowerCase(Locale.ROOT);
    if (!method.equals("rtn") && !method.equals("cbq")) {
      throw new IllegalArgumentException("--method '" + method
          + "' is not available (available: rtn, cbq)");
    }
    if (method.equals("cbq") && values.containsKey("--quantize-lm-head")) {
      throw new IllegalArgumentException("--quantize-lm-head is available with --method rtn only: "
          + "CBQ calibrates the blocks and keeps the output projection float");
    }
    String backend = values.getOrDefault("--backend", "cpu").toLowerCase(Locale.ROOT);
    Backends.Choice.parse(backend);
    String gpuPrecision = values.getOrDefault("--gpu-precision", "bf16").toLowerCase(Locale.ROOT);
    MatmulPrecision.parse(gpuPrecision);
    if (values.containsKey("--eval-text") && values.containsKey("--eval-tokens")) {
      throw new IllegalArgumentException("give either --eval-text or --eval-tokens, not both");
    }
    return new QuantizeOptions(
        values.getOrDefault("--model", DEFAULT_MODEL),
        values.get("--eval-text"),
        parseLayout(values.getOrDefault("--text-layout", "paragraphs")),
        values.get("--eval-tokens"),
        intOption(values, "--context", 0, 0),
        intOption(values, "--windows", 40, 0),
        method,
        schemes(values.getOrDefault("--bits", "4"), values.getOrDefault("--group", "128")),
        values.containsKey("--quantize-lm-head"),
        backend,
        gpuPrecision,
        intOption(values, "--threads", Runtime.getRuntime().availableProcessors(), 1),
        intOption(values, "--batch-tokens", 8192, 1),
        values.getOrDefault("--report", "calibra-report.json"),
        values.containsKey("--skip-float"),
        output(values),
        values.containsKey("--overwrite"),
        CbqOptions.parse(values, method));
  }

  /** The --output artifact, which holds one scheme: a run of several would need several files. */
  private static String output(Map<String, String> values) {
    String output = values.get("--output");
    if (output != null) {
      int schemes = values.getOrDefault("--bits", "4").split(",").length
          * values.getOrDefault("--group", "128").split(",").length;
      if (schemes != 1) {
        throw new IllegalArgumentException("--output writes one artifact, so it needs exactly one "
            + "scheme: give one --bits and one --group (got " + schemes + " schemes)");
      }
    } else if (values.containsKey("--overwrite")) {
      throw new IllegalArgumentException("--overwrite applies to --output, which is not given");
    }
    return output;
  }

  /** The evaluation-data options, which the evaluate command shares. */
  EvaluationSettings evaluation() {
    return new EvaluationSettings(evalText, textLayout, evalTokens, contextLength, windows);
  }

  static TextLayout parseLayout(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "paragraphs" -> TextLayout.PARAGRAPHS;
      case "whole" -> TextLayout.WHOLE;
      default -> throw new IllegalArgumentException("--text-layout must be paragraphs or whole, got '"
          + text + "'");
    };
  }

  private static List<QuantizationScheme> schemes(String bitsList, String groupList) {
    List<QuantizationScheme> schemes = new ArrayList<>();
    for (String bits : bitsList.split(",")) {
      int b;
      try {
        b = Integer.parseInt(bits.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--bits must list integers, got '" + bits + "'");
      }
      for (String group : groupList.split(",")) {
        schemes.add(new QuantizationScheme(b, QuantizationScheme.parseGroupSize(group)));
      }
    }
    return schemes;
  }

  static int intOption(Map<String, String> values, String name, int fallback, int min) {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text.trim());
      if (value >= min) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be an integer ≥ " + min + ", got '" + text + "'");
  }
}
