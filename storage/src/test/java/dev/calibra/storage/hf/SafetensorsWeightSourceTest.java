package dev.calibra.storage.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.SafetensorsBuilder;
import dev.calibra.storage.TinyModel;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Synthetic models, each with one thing changed, against the config's expectations. */
class SafetensorsWeightSourceTest {

  private final CpuBackend backend = new CpuBackend();

  @TempDir
  Path dir;

  private float[] values(Tensor tensor) {
    return backend.download(tensor);
  }

  private static float[] expectedValues(String name, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = TinyModel.value(name, i);
    }
    return values;
  }

  private FileContentException assertRejected(TinyModel model) throws IOException {
    Path written = model.write(dir.resolve("m"));
    return assertThrows(FileContentException.class,
        () -> ModelDirectory.open(written.toString()).close());
  }

  @Test
  void tensorsGoToTheirPlacesWithNormsAsRows() throws IOException {
    Path model = TinyModel.llama().write(dir.resolve("m"));
    try (ModelDirectory opened = ModelDirectory.open(model.toString())) {
      BlockWeights block = opened.weights().block(1, backend);
      assertArrayEquals(expectedValues("model.layers.1.mlp.gate_proj.weight", 96),
          values(block.weight(Linear.GATE)));
      assertArrayEquals(expectedValues("model.layers.1.post_attention_layernorm.weight", 8),
          values(block.postAttentionNorm()));
      assertEquals("1×8", block.postAttentionNorm().shapeText());
      assertNull(block.bias(Linear.Q));
      assertArrayEquals(expectedValues("model.norm.weight", 8),
          values(opened.weights().finalNorm(backend)));
    }
  }

  @Test
  void qwen2BiasesAreRows() throws IOException {
    Path model = TinyModel.qwen2().write(dir.resolve("q"));
    try (ModelDirectory opened = ModelDirectory.open(model.toString())) {
      BlockWeights block = opened.weights().block(0, backend);
      assertEquals("1×8", block.bias(Linear.Q).shapeText());
      assertEquals("1×4", block.bias(Linear.K).shapeText());
      assertArrayEquals(expectedValues("model.layers.0.self_attn.v_proj.bias", 4),
          values(block.bias(Linear.V)));
      assertNull(block.bias(Linear.O));
    }
  }

  @Test
  void untiedModelReadsItsOwnLmHead() throws IOException {
    TinyModel model = TinyModel.llama();
    model.config().put("tie_word_embeddings", false);
    model.tensors().put("lm_head.weight", new long[] {16, 8});
    try (ModelDirectory opened = ModelDirectory.open(model.write(dir.resolve("m")).toString())) {
      assertArrayEquals(expectedValues("lm_head.weight", 128),
          values(opened.weights().lmHead(backend)));
    }
  }

  @Test
  void wrongShapeNamesTensorFileAndBothShapes() throws IOException {
    TinyModel model = TinyModel.llama();
    model.tensors().put("model.layers.1.mlp.up_proj.weight", new long[] {12, 7});
    FileContentException e = assertRejected(model);
    assertEquals("model.layers.1.mlp.up_proj.weight in "
        + dir.resolve("m").resolve("model.safetensors") + " is [12, 7], expected [12, 8]",
        e.getMessage());
  }

  @Test
  void normStoredAsMatrixIsAWrongShape() throws IOException {
    TinyModel model = TinyModel.llama();
    model.tensors().put("model.layers.0.input_layernorm.weight", new long[] {1, 8});
    assertTrue(assertRejected(model).getMessage().endsWith("is [1, 8], expected [8]"));
  }

  @Test
  void missingTensor() throws IOException {
    TinyModel model = TinyModel.llama();
    model.tensors().remove("model.layers.1.self_attn.o_proj.weight");
    assertEquals("model.layers.1.self_attn.o_proj.weight is missing from "
        + dir.resolve("m").resolve("model.safetensors") + ", expected a tensor of shape [8, 8]",
        assertRejected(model).getMessage());
  }

  @Test
  void qwen2WithoutBiasesIsMissingThem() throws IOException {
    TinyModel model = TinyModel.qwen2();
    model.tensors().remove("model.layers.0.self_attn.k_proj.bias");
    assertTrue(assertRejected(model).getMessage()
        .startsWith("model.layers.0.self_attn.k_proj.bias is missing"));
  }

  @Test
  void untiedModelWithoutLmHead() throws IOException {
    TinyModel model = TinyModel.llama();
    model.config().put("tie_word_embeddings", false);
    assertTrue(assertRejected(model).getMessage().startsWith("lm_head.weight is missing"));
  }

  @Test
  void unknownArchitectureNamesTheConfigFile() throws IOException {
    TinyModel model = TinyModel.llama();
    model.config().put("model_type", "phi3");
    assertEquals(dir.resolve("m").resolve("config.json") + ": model_type 'phi3' is not "
        + "supported (supported: llama, mistral, qwen2)", assertRejected(model).getMessage());
  }

  @Test
  void integerWeightsAreRefused() throws IOException {
    Path model = TinyModel.llama().write(dir.resolve("m"));
    // Rewrite the file with the final norm as I32, same shape and size.
    TinyModel template = TinyModel.llama();
    SafetensorsBuilder file = new SafetensorsBuilder();
    template.tensors().forEach((name, shape) -> {
      long count = 1;
      for (long dim : shape) {
        count *= dim;
      }
      file.add(name, name.equals("model.norm.weight") ? "I32" : "F32", shape,
          new byte[(int) (4 * count)]);
    });
    file.write(model.resolve("model.safetensors"));
    FileContentException e = assertThrows(FileContentException.class,
        () -> ModelDirectory.open(model.toString()).close());
    assertEquals("model.norm.weight in " + model.resolve("model.safetensors")
        + " is I32, expected F32, F16 or BF16", e.getMessage());
  }
}
