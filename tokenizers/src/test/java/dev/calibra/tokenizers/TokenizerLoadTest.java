package dev.calibra.tokenizers;

import static dev.calibra.tokenizers.SentencePieceModelTest.assertMessageContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding and recognizing tokenizer files, and refusing what cannot be used. */
class TokenizerLoadTest {

  private static final String BYTE_LEVEL = "hf/bytelevel-llama3-style.json";

  @TempDir
  Path dir;

  @Test
  void prefersTokenizerModelWhenADirectoryHasBoth() throws IOException {
    Files.copy(SharedData.llama2TokenizerModel(), dir.resolve("tokenizer.model"));
    Files.write(dir.resolve("tokenizer.json"), Fixtures.resource(BYTE_LEVEL));
    Tokenizer tokenizer = Tokenizer.load(dir);
    assertInstanceOf(SentencePieceTokenizer.class, tokenizer);
    assertEquals(32000, tokenizer.vocabSize());
  }

  @Test
  void loadsTokenizerJsonWithSpecialTokensFromItsConfig() throws IOException {
    Files.write(dir.resolve("tokenizer.json"), Fixtures.resource(BYTE_LEVEL));
    Tokenizer conventional = Tokenizer.load(dir);
    assertInstanceOf(HuggingFaceTokenizer.class, conventional);
    assertEquals(2000, conventional.bosId());
    assertEquals(2001, conventional.eosId());

    Files.writeString(dir.resolve("tokenizer_config.json"),
        "{\"bos_token\": null, \"eos_token\": {\"content\": \"<|begin_of_text|>\"}}");
    Tokenizer configured = Tokenizer.load(dir.resolve("tokenizer.json"));
    assertEquals(-1, configured.bosId());
    assertEquals(2000, configured.eosId());
  }

  @Test
  void recognizesFilesAndBytesByTheirContent() throws IOException {
    byte[] json = Fixtures.resource(BYTE_LEVEL);
    byte[] model = Files.readAllBytes(SharedData.llama2TokenizerModel());
    assertInstanceOf(HuggingFaceTokenizer.class, Tokenizer.fromBytes(json, "a.json"));
    assertInstanceOf(SentencePieceTokenizer.class, Tokenizer.fromBytes(model, "a.model"));
    Path oddlyNamed = Files.write(dir.resolve("vocabulary.bin"), json);
    assertInstanceOf(HuggingFaceTokenizer.class, Tokenizer.load(oddlyNamed));
    Tokenizer fromModelFile = Tokenizer.load(SharedData.llama2TokenizerModel());
    assertArrayEquals(new int[] {15043, 3186}, fromModelFile.encode("Hello world"));
  }

  @Test
  void refusesADirectoryWithoutTokenizer() {
    assertMessageContains("no tokenizer.model or tokenizer.json in " + dir,
        () -> Tokenizer.load(dir));
    assertMessageContains("not found: " + dir.resolve("missing.model"),
        () -> Tokenizer.load(dir.resolve("missing.model")));
  }

  @Test
  void refusesUnsupportedTokenizerJsonComponents() throws IOException {
    assertRefused("model", "{\"type\": \"Unigram\", \"vocab\": []}", "model type 'Unigram'");
    assertRefused("model", "{\"type\": \"WordPiece\", \"vocab\": {}}", "model type 'WordPiece'");
    assertRefused("normalizer", "{\"type\": \"Lowercase\"}", "normalizer type 'Lowercase'");
    assertRefused("pre_tokenizer", "{\"type\": \"BertPreTokenizer\"}",
        "pre_tokenizer type 'BertPreTokenizer'");
    assertRefused("decoder", "{\"type\": \"WordPiece\"}", "decoder type 'WordPiece'");
    assertMessageContains("bad.json: not valid JSON",
        () -> Tokenizer.fromBytes("{\"model\": ".getBytes(), "bad.json"));
  }

  @Test
  void refusesIdsOutsideTheVocabularyWhenDecoding() {
    Tokenizer model = Tokenizer.load(SharedData.llama2TokenizerModel());
    Tokenizer json = Tokenizer.fromBytes(Fixtures.resource(BYTE_LEVEL), "bytelevel.json");
    assertThrows(IllegalArgumentException.class, () -> model.decode(new int[] {32000}));
    assertThrows(IllegalArgumentException.class, () -> json.decode(new int[] {-1}));
  }

  private static void assertRefused(String field, String component, String expected)
      throws IOException {
    ObjectNode root = (ObjectNode) Fixtures.json(BYTE_LEVEL);
    root.set(field, Fixtures.JSON.readTree(component));
    byte[] json = Fixtures.JSON.writeValueAsBytes(root);
    assertMessageContains("edited.json: " + expected,
        () -> HuggingFaceTokenizer.fromJson(json, "edited.json"));
  }
}
