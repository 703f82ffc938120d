package dev.calibra.jobs.cli;

import dev.calibra.storage.gptq.GptqFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/** The options of {@code calibra export-gptq}. */
record ExportGptqOptions(String artifact, String out, GptqFormat format, String tokenizerDirectory,
    boolean overwrite) {

  private static final Map<String, String[]> HELP = new LinkedHashMap<>();

  static {
    HELP.put("--artifact", new String[] {"ARTIFACT", "the Arrow artifact to export (required)"});
    HELP.put("--out", new String[] {"DIR", "the directory to create: a local path, file:// or "
        + "hdfs:// URI (required)"});
    HELP.put("--checkpoint-format", new String[] {"gptq|gptq_v2", "how qzeros store zero points: "
        + "gptq stores zero − 1 and is read by every GPTQ loader but cannot hold a zero point of 0; "
        + "gptq_v2 stores them as they are [default: gptq]"});
    HELP.put("--tokenizer", new String[] {"DIR", "directory holding the artifact's tokenizer files "
        + "[default: the model directory the artifact was made from]"});
    HELP.put("--overwrite", new String[] {"", "replace an existing --out directory"});
    HELP.put("--help", new String[] {"", "print this help and exit"});
  }

  static String help() {
    return QuantizeOptions.helpText("Usage: calibra export-gptq --artifact ARTIFACT --out DIR "
        + "[options]\n\n"
        + "Writes the artifact's model as a Hugging Face GPTQ checkpoint (qweight, qzeros, scales,\n"
        + "g_idx; float16 embeddings and norms; config.json, quantize_config.json, tokenizer) that\n"
        + "transformers and vLLM load. Needs uniform weights of 2, 3, 4 or 8 bits whose group size\n"
        + "divides every input dimension (or per-channel).\n", HELP);
  }

  /** @throws IllegalArgumentException naming the bad option and what it accepts */
  static ExportGptqOptions parse(String[] args) {
    Map<String, String> values = QuantizeOptions.values(args, HELP);
    for (String required : new String[] {"--artifact", "--out"}) {
      if (!values.containsKey(required)) {
        throw new IllegalArgumentException(required + " is required (see --help)");
      }
    }
    return new ExportGptqOptions(values.get("--artifact"), values.get("--out"),
        GptqFormat.parse(values.getOrDefault("--checkpoint-format", "gptq")),
        values.get("--tokenizer"), values.containsKey("--overwrite"));
  }
}
