package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Reading SentencePiece model files by hand: small models built here, and broken files. */
class SentencePieceModelTest {

  private static final int NORMAL = 1;
  private static final int UNKNOWN = 2;
  private static final int CONTROL = 3;
  private static final int UNIGRAM = 1;
  private static final int BPE = 2;

  @Test
  void encodesWithATinyBpeModel() {
    // "▁ab" outscores "ab", so "▁" + "a" + "b" becomes "▁a" + "b", then "▁ab".
    byte[] model = model(new ProtobufWriter().varint(3, BPE),
        piece("<unk>", 0, UNKNOWN), piece("<s>", 0, CONTROL), piece("</s>", 0, CONTROL),
        piece("▁", -1, NORMAL), piece("a", -2, NORMAL), piece("b", -3, NORMAL),
        piece("▁a", -4, NORMAL), piece("ab", -6, NORMAL), piece("▁ab", -5, NORMAL));
    SentencePieceTokenizer tokenizer = SentencePieceTokenizer.fromBytes(model, "tiny.model");
    assertArrayEquals(new int[] {8, 8}, tokenizer.encode("ab ab"));
    // Without byte fallback, a run of unknown characters is one <unk>.
    assertArrayEquals(new int[] {6, 0, 6}, tokenizer.encode("a??? a"));
    assertEquals("ab ab", tokenizer.decode(new int[] {8, 8}));
    assertEquals(9, tokenizer.vocabSize());
    assertEquals(1, tokenizer.bosId());
    assertEquals(2, tokenizer.eosId());
  }

  @Test
  void refusesUnigramModels() {
    byte[] model = model(new ProtobufWriter().varint(3, UNIGRAM), piece("<unk>", 0, UNKNOWN),
        piece("a", -1, NORMAL));
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> SentencePieceTokenizer.fromBytes(model, "unigram.model"));
    assertTrue(e.getMessage().contains("unigram.model") && e.getMessage().contains("UNIGRAM"),
        e.getMessage());
  }

  @Test
  void refusesNormalizationRulesOtherThanIdentity() {
    ProtobufWriter normalizer = new ProtobufWriter().string(1, "nmt_nfkc")
        .bytes(2, new byte[] {1, 2, 3});
    byte[] model = new ProtobufWriter()
        .message(1, piece("<unk>", 0, UNKNOWN))
        .message(2, new ProtobufWriter().varint(3, BPE))
        .message(3, normalizer)
        .toByteArray();
    assertMessageContains("nmt_nfkc", () -> SentencePieceTokenizer.fromBytes(model, "nfkc.model"));
  }

  @Test
  void refusesModelsWithoutAnUnknownPiece() {
    byte[] model = model(new ProtobufWriter().varint(3, BPE), piece("a", 0, NORMAL));
    assertMessageContains("UNKNOWN", () -> SentencePieceTokenizer.fromBytes(model, "x.model"));
  }

  @Test
  void refusesByteFallbackWithoutBytePieces() {
    byte[] model = model(new ProtobufWriter().varint(3, BPE).varint(35, 1),
        piece("<unk>", 0, UNKNOWN));
    assertMessageContains("byte", () -> SentencePieceTokenizer.fromBytes(model, "x.model"));
  }

  @Test
  void refusesTruncatedFiles() throws IOException {
    byte[] llama2 = Files.readAllBytes(SharedData.llama2TokenizerModel());
    for (int length : new int[] {1, 5, 1000, llama2.length / 2, llama2.length - 1}) {
      byte[] truncated = Arrays.copyOf(llama2, length);
      TokenizerException e = assertThrows(TokenizerException.class,
          () -> SentencePieceTokenizer.fromBytes(truncated, "cut.model"));
      assertTrue(e.getMessage().startsWith("cut.model: not a valid SentencePiece model file"),
          e.getMessage());
    }
  }

  @Test
  void refusesFilesThatAreNotModels() {
    byte[] text = "this is not a model".getBytes();
    assertMessageContains("not a valid SentencePiece model",
        () -> SentencePieceTokenizer.fromBytes(text, "text.model"));
    assertMessageContains("no pieces",
        () -> SentencePieceTokenizer.fromBytes(new byte[0], "empty.model"));
  }

  private static ProtobufWriter piece(String text, float score, int type) {
    return new ProtobufWriter().string(1, text).floatValue(2, score).varint(3, type);
  }

  private static byte[] model(ProtobufWriter trainerSpec, ProtobufWriter... pieces) {
    ProtobufWriter model = new ProtobufWriter();
    for (ProtobufWriter piece : pieces) {
      model.message(1, piece);
    }
    // Identity normalization, Llama-style: a dummy prefix, spaces kept as they are.
    ProtobufWriter normalizer = new ProtobufWriter().string(1, "identity").varint(3, 1)
        .varint(4, 0);
    return model.message(2, trainerSpec).message(3, normalizer).toByteArray();
  }

  static void assertMessageContains(String expected, Runnable action) {
    TokenizerException e = assertThrows(TokenizerException.class, action::run);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
