package dev.calibra.jobs.artifact;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;

/** The config.json an artifact records for the model it holds. */
public final class ModelConfigJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelConfigJson() {}

  /**
   * The model directory's config.json as it is, but for what quantization changed: a rotated
   * model ({@code quantized}) has an output projection of its own even when the original ties
   * it to the embedding, and every reader (Calibra's, an exported checkpoint's serving engine)
   * must load it so.
   */
  public static ObjectNode read(ModelDirectory model, LlamaConfig quantized) throws IOException {
    ObjectNode config = (ObjectNode) JSON.readTree(
        model.location().child(ModelDirectory.CONFIG_FILE).readAllBytes(16L << 20));
    if (model.config().tieWordEmbeddings() && !quantized.tieWordEmbeddings()) {
      config.put("tie_word_embeddings", false);
    }
    return config;
  }
}
