package dev.calibra.storage.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.RopeScaling;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Turns a Hugging Face {@code config.json} of a llama, mistral or qwen2 model into a
 * {@link LlamaConfig}. Where a field may be absent, the default is the one transformers applies
 * for that model type; sizes that have no sensible default are required.
 */
public final class LlamaConfigReader {

  public static final List<String> SUPPORTED_MODEL_TYPES = List.of("llama", "mistral", "qwen2");

  /** config.json files are a few kB; anything far larger is not one. */
  private static final long MAX_CONFIG_BYTES = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private LlamaConfigReader() {
  }

  public static LlamaConfig read(FileLocation configJson) throws IOException {
    return parse(configJson.toString(), configJson.readAllBytes(MAX_CONFIG_BYTES));
  }

  /** Parses config.json content; {@code file} names it in messages. */
  public static LlamaConfig parse(String file, byte[] json) throws FileContentException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new FileContentException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new FileContentException(file + " could not be parsed: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new FileContentException(file + ": expected a JSON object");
    }
    ConfigFields config = new ConfigFields(file, "", root);
    String modelType = config.optionalString("model_type")
        .orElseThrow(() -> config.problem("model_type", "is missing, expected one of "
            + SUPPORTED_MODEL_TYPES));
    if (!SUPPORTED_MODEL_TYPES.contains(modelType)) {
      throw config.problem("model_type", "'" + modelType + "' is not supported (supported: "
          + String.join(", ", SUPPORTED_MODEL_TYPES) + ")");
    }
    rejectUnsupportedLayers(config, modelType);

    int hidden = config.requiredInt("hidden_size");
    int heads = config.requiredInt("num_attention_heads");
    Optional<Integer> explicitHeadDim = config.optionalInt("head_dim");
    int headDim;
    if (explicitHeadDim.isPresent()) {
      headDim = explicitHeadDim.get();
    } else if (heads > 0 && hidden % heads == 0) {
      headDim = hidden / heads;
    } else {
      throw config.problem("head_dim", "is missing and hidden_size " + hidden
          + " is not a multiple of num_attention_heads " + heads);
    }
    RopeScaling rope = RopeScalingReader.read(config);
    try {
      return new LlamaConfig(
          modelType,
          hidden,
          config.requiredInt("intermediate_size"),
          config.requiredInt("num_hidden_layers"),
          heads,
          config.optionalInt("num_key_value_heads").orElse(heads),
          headDim,
          config.requiredInt("vocab_size"),
          config.requiredInt("max_position_embeddings"),
          (float) config.requiredDouble("rms_norm_eps"),
          rope,
          config.optionalBoolean("tie_word_embeddings", false),
          // qwen2 always has q/k/v biases; llama's attention_bias is only accepted when false.
          modelType.equals("qwen2"),
          tokenId(config, "bos_token_id", modelType.equals("qwen2") ? -1 : 1),
          tokenId(config, "eos_token_id", modelType.equals("qwen2") ? -1 : 2));
    } catch (IllegalArgumentException e) {
      throw new FileContentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses settings that change the block's layers in ways the decoder does not implement,
   * rather than silently computing a different model.
   */
  private static void rejectUnsupportedLayers(ConfigFields config, String modelType)
      throws FileContentException {
    String activation = config.optionalString("hidden_act").orElse("silu");
    if (!activation.equals("silu")) {
      throw config.problem("hidden_act", "'" + activation + "' is not supported, expected silu");
    }
    if (config.optionalBoolean("mlp_bias", false)) {
      throw config.problem("mlp_bias", "true is not supported: the MLP projections have no bias");
    }
    // transformers' llama applies attention_bias to o_proj too, which the block does not hold.
    if (!modelType.equals("qwen2") && config.optionalBoolean("attention_bias", false)) {
      throw config.problem("attention_bias", "true is not supported for " + modelType
          + ": it also puts a bias on o_proj, which the decoder block does not have");
    }
  }

  /**
   * A special token id; -1 when the config names none and the model type has no default.
   * eos_token_id may be a list (several stop tokens): the first is the primary one.
   */
  private static int tokenId(ConfigFields config, String name, int fallback)
      throws FileContentException {
    JsonNode value = config.optionalNode(name).orElse(null);
    if (value == null) {
      return fallback;
    }
    if (value.isArray()) {
      if (value.isEmpty()) {
        return fallback;
      }
      value = value.get(0);
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0) {
      throw config.wrongType(name, "a non-negative integer or a list of them",
          config.optionalNode(name).get());
    }
    return value.intValue();
  }
}
