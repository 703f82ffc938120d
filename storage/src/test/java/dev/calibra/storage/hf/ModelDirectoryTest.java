package dev.calibra.storage.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.RawSafetensors;
import dev.calibra.storage.SharedData;
import dev.calibra.storage.TinyModel;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two real shared models opened as directories, and directories that cannot be opened. */
class ModelDirectoryTest {

  private static final Path STORIES = SharedData.model("stories260K");
  private static final Path DICT = SharedData.model("dict-llama-15M");

  private final CpuBackend backend = new CpuBackend();

  @TempDir
  Path dir;

  private float[] values(Tensor tensor) {
    return backend.download(tensor);
  }

  /** Loads every block and checks each tensor's shape against the config. */
  private void assertAllBlocksLoad(ModelDirectory model) {
    LlamaConfig config = model.config();
    for (int i = 0; i < config.numLayers(); i++) {
      BlockWeights block = model.weights().block(i, backend);
      assertEquals("1×" + config.hiddenSize(), block.inputNorm().shapeText());
      assertEquals("1×" + config.hiddenSize(), block.postAttentionNorm().shapeText());
      for (Linear linear : Linear.values()) {
        int[] shape = config.weightShape(linear);
        assertEquals(shape[0] + "×" + shape[1], block.weight(linear).shapeText(),
            "block " + i + " " + linear);
      }
    }
    assertEquals(config.vocabSize() + "×" + config.hiddenSize(),
        model.weights().embedding(backend).shapeText());
    assertEquals("1×" + config.hiddenSize(), model.weights().finalNorm(backend).shapeText());
  }

  @Test
  void stories260KLoadsEveryBlock() throws IOException {
    RawSafetensors raw = new RawSafetensors(STORIES.resolve("model.safetensors"));
    try (ModelDirectory model = ModelDirectory.open(STORIES.toString())) {
      assertEquals(5, model.config().numLayers());
      assertAllBlocksLoad(model);
      BlockWeights block = model.weights().block(3, backend);
      assertArrayEquals(raw.firstValues("model.layers.3.mlp.up_proj.weight", 20),
          Arrays.copyOf(values(block.weight(Linear.UP)), 20));
      assertArrayEquals(raw.firstValues("model.layers.3.input_layernorm.weight", 64),
          values(block.inputNorm()));
      // Tied: the output projection is the embedding table.
      assertArrayEquals(values(model.weights().embedding(backend)),
          values(model.weights().lmHead(backend)));
      assertTrue(model.tokenizer().isEmpty());
    }
  }

  @Test
  void dictLlama15MLoadsEveryBlockFromBfloat16() throws IOException {
    RawSafetensors raw = new RawSafetensors(DICT.resolve("model.safetensors"));
    try (ModelDirectory model = ModelDirectory.open(DICT.toString())) {
      assertEquals(6, model.config().numLayers());
      assertAllBlocksLoad(model);
      BlockWeights block = model.weights().block(5, backend);
      assertArrayEquals(raw.firstValues("model.layers.5.self_attn.k_proj.weight", 48),
          Arrays.copyOf(values(block.weight(Linear.K)), 48));
      assertArrayEquals(raw.firstValues("model.embed_tokens.weight", 300),
          Arrays.copyOf(values(model.weights().lmHead(backend)), 300));
      TokenizerFile tokenizer = model.tokenizer().orElseThrow();
      assertSame(TokenizerFile.Kind.SENTENCEPIECE, tokenizer.kind());
      assertArrayEquals(Files.readAllBytes(DICT.resolve("tokenizer.model")), tokenizer.bytes());
    }
  }

  @Test
  void blockIndexOutOfRange() throws IOException {
    try (ModelDirectory model = ModelDirectory.open(STORIES.toString())) {
      IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
          () -> model.weights().block(5, backend));
      assertTrue(e.getMessage().contains("block 5 does not exist"), e.getMessage());
      assertTrue(e.getMessage().contains("has 5 blocks (0 to 4)"), e.getMessage());
      assertThrows(IndexOutOfBoundsException.class, () -> model.weights().block(-1, backend));
    }
  }

  @Test
  void fileUriAndRelativePathOpenTheSameModel() throws IOException {
    Path relative = Paths.get("").toAbsolutePath().relativize(STORIES);
    try (ModelDirectory byUri = ModelDirectory.open(STORIES.toUri().toString());
        ModelDirectory byRelative = ModelDirectory.open(relative.toString())) {
      assertEquals(byUri.config(), byRelative.config());
      assertArrayEquals(values(byUri.weights().finalNorm(backend)),
          values(byRelative.weights().finalNorm(backend)));
    }
  }

  @Test
  void tokenizerJsonWhenThereIsNoSentencePieceModel() throws IOException {
    Path model = TinyModel.llama().write(dir.resolve("m"));
    Files.writeString(model.resolve("tokenizer.json"), "{\"model\": {}}");
    try (ModelDirectory opened = ModelDirectory.open(model.toString())) {
      TokenizerFile tokenizer = opened.tokenizer().orElseThrow();
      assertSame(TokenizerFile.Kind.HUGGING_FACE_JSON, tokenizer.kind());
      assertEquals("{\"model\": {}}", new String(tokenizer.bytes(), "UTF-8"));
      assertEquals(model.resolve("tokenizer.json").toString(), tokenizer.location());
    }
  }

  @Test
  void missingDirectory() {
    Path absent = dir.resolve("absent");
    FileNotFoundException e = assertThrows(FileNotFoundException.class,
        () -> ModelDirectory.open(absent.toString()));
    assertEquals("model directory " + absent + " does not exist", e.getMessage());
  }

  @Test
  void directoryWithoutConfig() throws IOException {
    Path model = TinyModel.llama().write(dir.resolve("m"));
    Files.delete(model.resolve("config.json"));
    FileNotFoundException e = assertThrows(FileNotFoundException.class,
        () -> ModelDirectory.open(model.toString()));
    assertEquals("no config.json in model directory " + model, e.getMessage());
  }

  @Test
  void directoryWithoutWeights() throws IOException {
    Path model = TinyModel.llama().write(dir.resolve("m"));
    Files.move(model.resolve("model.safetensors"), model.resolve("consolidated.safetensors"));
    FileNotFoundException e = assertThrows(FileNotFoundException.class,
        () -> ModelDirectory.open(model.toString()));
    assertTrue(e.getMessage().startsWith("no model.safetensors or model.safetensors.index.json "
        + "in model directory " + model), e.getMessage());
    assertTrue(e.getMessage().contains("found consolidated.safetensors"), e.getMessage());
  }

  @Test
  void fileInsteadOfDirectory() {
    Path config = STORIES.resolve("config.json");
    FileContentException e = assertThrows(FileContentException.class,
        () -> ModelDirectory.open(config.toString()));
    assertTrue(e.getMessage().contains(config + " is a file"), e.getMessage());
  }
}
