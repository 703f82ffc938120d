package dev.calibra.storage.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.SharedData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class LlamaConfigReaderTest {

  private static final String FILE = "/models/m/config.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static LlamaConfig read(String model) throws IOException {
    String path = SharedData.model(model).resolve("config.json").toString();
    return LlamaConfigReader.read(FileLocation.of(path, new Configuration()));
  }

  /** A minimal transformers-4-style llama config. */
  private static ObjectNode minimal() {
    return JSON.createObjectNode()
        .put("model_type", "llama")
        .put("hidden_size", 64)
        .put("intermediate_size", 172)
        .put("num_hidden_layers", 5)
        .put("num_attention_heads", 8)
        .put("vocab_size", 512)
        .put("max_position_embeddings", 512)
        .put("rms_norm_eps", 1e-6);
  }

  private static LlamaConfig parse(ObjectNode config) throws FileContentException {
    return LlamaConfigReader.parse(FILE, config.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void assertRejected(ObjectNode config, String... fragments) {
    FileContentException e = assertThrows(FileContentException.class, () -> parse(config));
    assertTrue(e.getMessage().startsWith(FILE), e.getMessage());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
  }

  @Test
  void stories260K() throws IOException {
    LlamaConfig config = read("stories260K");
    assertEquals("llama", config.architecture());
    assertEquals(64, config.hiddenSize());
    assertEquals(172, config.intermediateSize());
    assertEquals(5, config.numLayers());
    assertEquals(8, config.numHeads());
    assertEquals(4, config.numKeyValueHeads());
    assertEquals(8, config.headDim());
    assertEquals(512, config.vocabSize());
    assertEquals(512, config.maxPositions());
    assertEquals(1e-5f, config.rmsNormEps());
    assertEquals("default", config.rope().type());
    assertEquals(10000.0, config.rope().theta());
    assertTrue(config.tieWordEmbeddings());
    assertFalse(config.attentionBias());
    assertEquals(1, config.bosTokenId());
    assertEquals(2, config.eosTokenId());
  }

  @Test
  void dictLlama15M() throws IOException {
    LlamaConfig config = read("dict-llama-15M");
    assertEquals(288, config.hiddenSize());
    assertEquals(768, config.intermediateSize());
    assertEquals(6, config.numLayers());
    assertEquals(6, config.numHeads());
    assertEquals(2, config.numKeyValueHeads());
    assertEquals(48, config.headDim());
    assertEquals(32000, config.vocabSize());
    assertEquals(10000.0, config.rope().theta());
    assertTrue(config.tieWordEmbeddings());
  }

  @Test
  void defaultsFollowTransformers() throws FileContentException {
    LlamaConfig config = parse(minimal().putNull("head_dim"));
    assertEquals(8, config.numKeyValueHeads());
    assertEquals(8, config.headDim());
    assertEquals(10000.0, config.rope().theta());
    assertEquals("default", config.rope().type());
    assertFalse(config.tieWordEmbeddings());
    assertFalse(config.attentionBias());
    assertEquals(1, config.bosTokenId());
    assertEquals(2, config.eosTokenId());
  }

  @Test
  void topLevelRopeThetaAndRopeScalingOfTransformers4() throws FileContentException {
    ObjectNode node = minimal().put("rope_theta", 500000.0);
    node.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0)
        .put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
        .put("original_max_position_embeddings", 8192);
    LlamaConfig config = parse(node);
    assertEquals("llama3", config.rope().type());
    assertEquals(500000.0, config.rope().theta());
    assertEquals(8.0, config.rope().factor());
    assertEquals(1.0, config.rope().lowFreqFactor());
    assertEquals(4.0, config.rope().highFreqFactor());
    assertEquals(8192, config.rope().originalMaxPositions());
  }

  @Test
  void ropeParametersOfTransformers5WithLinearScaling() throws FileContentException {
    ObjectNode node = minimal();
    node.putObject("rope_parameters").put("rope_theta", 1e6).put("type", "linear")
        .put("factor", 4.0);
    LlamaConfig config = parse(node);
    assertEquals("linear", config.rope().type());
    assertEquals(1e6, config.rope().theta());
    assertEquals(4.0, config.rope().factor());
  }

  @Test
  void unsupportedOrIncompleteRopeScaling() {
    ObjectNode yarn = minimal();
    yarn.putObject("rope_scaling").put("type", "yarn").put("factor", 4.0);
    assertRejected(yarn, "rope type 'yarn' is not supported (supported: default, linear, llama3)");
    ObjectNode llama3 = minimal();
    llama3.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0);
    assertRejected(llama3, "rope_scaling.low_freq_factor is missing");
    ObjectNode conflicting = minimal().put("rope_theta", 10000.0);
    conflicting.putObject("rope_parameters").put("rope_theta", 500000.0);
    assertRejected(conflicting, "rope_theta 10000.0 and rope_parameters.rope_theta 500000.0");
  }

  @Test
  void qwen2HasAttentionBiasAndListEos() throws FileContentException {
    ObjectNode node = minimal().put("model_type", "qwen2").put("num_key_value_heads", 2)
        .put("bos_token_id", 151643).put("tie_word_embeddings", true);
    node.putArray("eos_token_id").add(151645).add(151643);
    LlamaConfig config = parse(node);
    assertEquals("qwen2", config.architecture());
    assertTrue(config.attentionBias());
    assertEquals(2, config.numKeyValueHeads());
    assertEquals(151643, config.bosTokenId());
    assertEquals(151645, config.eosTokenId());
    assertTrue(config.tieWordEmbeddings());
  }

  @Test
  void mistralIsSupported() throws FileContentException {
    assertEquals("mistral", parse(minimal().put("model_type", "mistral")).architecture());
  }

  @Test
  void unknownArchitecture() {
    assertRejected(minimal().put("model_type", "gpt2"),
        "model_type 'gpt2' is not supported (supported: llama, mistral, qwen2)");
    assertRejected((ObjectNode) minimal().without("model_type"), "model_type is missing");
  }

  @Test
  void missingOrMistypedFields() {
    assertRejected((ObjectNode) minimal().without("hidden_size"),
        "hidden_size is missing, expected an integer");
    assertRejected((ObjectNode) minimal().without("rms_norm_eps"), "rms_norm_eps is missing");
    assertRejected(minimal().put("vocab_size", "big"), "vocab_size must be a 32-bit integer");
    assertRejected(minimal().put("num_key_value_heads", 3),
        "num_attention_heads (8) must be a multiple of num_key_value_heads (3)");
    assertRejected(minimal().put("num_attention_heads", 7), "head_dim is missing and hidden_size 64"
        + " is not a multiple of num_attention_heads 7");
  }

  @Test
  void layersTheDecoderDoesNotHaveAreRefused() {
    assertRejected(minimal().put("attention_bias", true), "attention_bias", "o_proj");
    assertRejected(minimal().put("mlp_bias", true), "mlp_bias");
    assertRejected(minimal().put("hidden_act", "gelu"), "hidden_act 'gelu' is not supported");
  }

  @Test
  void notJson() {
    FileContentException e = assertThrows(FileContentException.class,
        () -> LlamaConfigReader.parse(FILE, "{\"model_type\": ".getBytes(StandardCharsets.UTF_8)));
    assertTrue(e.getMessage().startsWith(FILE + " is not valid JSON"), e.getMessage());
  }
}
