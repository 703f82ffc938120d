package dev.calibra.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny synthetic Hugging Face model directory (config.json + model.safetensors, F32) whose
 * config and tensor shapes a test can alter before writing, to provoke one error at a time.
 */
public final class TinyModel {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> LINEARS = List.of("self_attn.q_proj", "self_attn.k_proj",
      "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

  private final ObjectNode config;
  private final Map<String, long[]> tensors = new LinkedHashMap<>();

  private TinyModel(ObjectNode config) {
    this.config = config;
  }

  /** hidden 8, 2 heads of 4, 1 kv head, MLP 12, 2 layers, vocab 16, tied embeddings. */
  public static TinyModel llama() {
    ObjectNode config = JSON.createObjectNode()
        .put("model_type", "llama")
        .put("hidden_size", 8)
        .put("intermediate_size", 12)
        .put("num_hidden_layers", 2)
        .put("num_attention_heads", 2)
        .put("num_key_value_heads", 1)
        .put("vocab_size", 16)
        .put("max_position_embeddings", 32)
        .put("rms_norm_eps", 1e-5)
        .put("rope_theta", 10000.0)
        .put("tie_word_embeddings", true);
    TinyModel model = new TinyModel(config);
    model.tensors.put("model.embed_tokens.weight", new long[] {16, 8});
    for (int layer = 0; layer < 2; layer++) {
      String prefix = "model.layers." + layer + ".";
      model.tensors.put(prefix + "input_layernorm.weight", new long[] {8});
      model.tensors.put(prefix + "post_attention_layernorm.weight", new long[] {8});
      long[][] shapes = {{8, 8}, {4, 8}, {4, 8}, {8, 8}, {12, 8}, {12, 8}, {8, 12}};
      for (int i = 0; i < LINEARS.size(); i++) {
        model.tensors.put(prefix + LINEARS.get(i) + ".weight", shapes[i]);
      }
    }
    model.tensors.put("model.norm.weight", new long[] {8});
    return model;
  }

  /** The same model as qwen2: q/k/v biases added. */
  public static TinyModel qwen2() {
    TinyModel model = llama();
    model.config.put("model_type", "qwen2");
    for (int layer = 0; layer < 2; layer++) {
      String prefix = "model.layers." + layer + ".self_attn.";
      model.tensors.put(prefix + "q_proj.bias", new long[] {8});
      model.tensors.put(prefix + "k_proj.bias", new long[] {4});
      model.tensors.put(prefix + "v_proj.bias", new long[] {4});
    }
    return model;
  }

  public ObjectNode config() {
    return config;
  }

  /** Tensor name → shape, in file order; change it to write a broken model. */
  public Map<String, long[]> tensors() {
    return tensors;
  }

  /** The value written at flat index {@code i} of tensor {@code name}. */
  public static float value(String name, int i) {
    return Math.floorMod(name.hashCode(), 97) * 0.01f + i * 0.001f;
  }

  public Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), config.toPrettyString());
    SafetensorsBuilder file = new SafetensorsBuilder().metadata("format", "pt");
    tensors.forEach((name, shape) -> {
      long count = 1;
      for (long dim : shape) {
        count *= dim;
      }
      float[] values = new float[(int) count];
      for (int i = 0; i < values.length; i++) {
        values[i] = value(name, i);
      }
      file.addF32(name, shape, values);
    });
    file.write(dir.resolve("model.safetensors"));
    return dir;
  }
}
