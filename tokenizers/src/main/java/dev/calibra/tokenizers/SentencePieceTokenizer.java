package dev.calibra.tokenizers;

import dev.calibra.tokenizers.SentencePieceModel.ModelType;
import dev.calibra.tokenizers.SentencePieceModel.NormalizerSpec;
import dev.calibra.tokenizers.SentencePieceModel.PieceType;
import dev.calibra.tokenizers.SentencePieceModel.TrainerSpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A SentencePiece BPE model ({@code tokenizer.model} of Llama 1/2, Mistral and the like) that
 * encodes and decodes exactly as the sentencepiece library does. Only BPE models with identity
 * normalization are supported; others are refused when loading.
 */
public final class SentencePieceTokenizer implements Tokenizer {

  private final String location;
  private final SentencePieceVocabulary vocabulary;
  private final SentencePieceNormalizer normalizer;
  private final SentencePieceBpe bpe;
  private final boolean byteFallback;
  /** The decoder drops the space the normalizer put in front of the text. */
  private final boolean stripLeadingSpace;
  /** With squeezed spaces, every leading space piece is dropped, not just the first. */
  private final boolean stripAllLeadingSpaces;
  private final String unknownSurface;
  private final int bosId;
  private final int eosId;

  private SentencePieceTokenizer(SentencePieceModel model, String location) {
    TrainerSpec trainer = model.trainer();
    NormalizerSpec normalization = model.normalizer();
    if (trainer.modelType() != ModelType.BPE) {
      throw new TokenizerException(location + ": SentencePiece model type " + trainer.modelType()
          + " is not supported (only BPE)");
    }
    if (normalization.precompiledCharsmapSize() > 0) {
      throw new TokenizerException(location + ": SentencePiece normalization rules '"
          + normalization.name() + "' are not supported (only identity)");
    }
    if (trainer.treatWhitespaceAsSuffix()) {
      throw new TokenizerException(
          location + ": SentencePiece treat_whitespace_as_suffix is not supported");
    }
    this.location = location;
    this.vocabulary = new SentencePieceVocabulary(model, location);
    this.normalizer = new SentencePieceNormalizer(normalization);
    this.bpe = new SentencePieceBpe(vocabulary);
    this.byteFallback = trainer.byteFallback();
    this.stripLeadingSpace =
        normalization.addDummyPrefix() || normalization.removeExtraWhitespaces();
    this.stripAllLeadingSpaces = normalization.removeExtraWhitespaces();
    this.unknownSurface = trainer.unknownSurface();
    this.bosId = controlId(trainer.bosPiece());
    this.eosId = controlId(trainer.eosPiece());
  }

  public static SentencePieceTokenizer load(Path file) {
    return fromBytes(TokenizerLoader.readFile(file), file.toString());
  }

  /**
   * @param content the bytes of a {@code tokenizer.model}
   * @param location where they came from, for error messages
   */
  public static SentencePieceTokenizer fromBytes(byte[] content, String location) {
    return new SentencePieceTokenizer(SentencePieceModel.parse(content, location), location);
  }

  @Override
  public int[] encode(String text) {
    IntArrayBuilder ids = new IntArrayBuilder();
    boolean previousWasUnknown = false;
    for (String piece : bpe.segment(normalizer.normalize(text))) {
      int id = vocabulary.idOf(piece);
      boolean unknown = id == vocabulary.unknownId();
      if (unknown && byteFallback) {
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
          ids.add(vocabulary.byteId(b & 0xFF));
        }
      } else if (!(unknown && previousWasUnknown)) {
        // A run of unknown pieces becomes a single unknown id, as in the library.
        ids.add(id);
      }
      previousWasUnknown = unknown;
    }
    return ids.toArray();
  }

  @Override
  public String decode(int[] ids) {
    StringBuilder text = new StringBuilder();
    ByteArrayOutputStream byteRun = new ByteArrayOutputStream();
    boolean atStart = true;
    boolean sawLeadingSpace = false;
    for (int id : ids) {
      checkId(id);
      PieceType type = vocabulary.type(id);
      if (type == PieceType.BYTE) {
        byteRun.write(vocabulary.byteOf(id));
        continue;
      }
      appendBytes(byteRun, text);
      // Only the first piece that yields text may carry the space the normalizer added.
      if (sawLeadingSpace || text.length() > 0) {
        atStart = false;
      }
      sawLeadingSpace = false;
      if (type == PieceType.UNKNOWN) {
        text.append(unknownSurface);
      } else if (type != PieceType.CONTROL) {
        String piece = vocabulary.text(id);
        if (atStart && stripLeadingSpace
            && piece.charAt(0) == SentencePieceNormalizer.SPACE_SYMBOL) {
          piece = piece.substring(1);
          sawLeadingSpace = !stripAllLeadingSpaces;
        }
        text.append(piece.replace(SentencePieceNormalizer.SPACE_SYMBOL, ' '));
      }
    }
    appendBytes(byteRun, text);
    return text.toString();
  }

  @Override
  public int vocabSize() {
    return vocabulary.size();
  }

  @Override
  public int bosId() {
    return bosId;
  }

  @Override
  public int eosId() {
    return eosId;
  }

  @Override
  public String toString() {
    return "SentencePieceTokenizer(" + location + ", " + vocabSize() + " pieces)";
  }

  private static void appendBytes(ByteArrayOutputStream byteRun, StringBuilder text) {
    Utf8.appendReplacingEachBadByte(byteRun.toByteArray(), byteRun.size(), text);
    byteRun.reset();
  }

  /** The library reports BOS/EOS only when the named piece exists as a control piece. */
  private int controlId(String piece) {
    int id = vocabulary.idOf(piece);
    return vocabulary.type(id) == PieceType.CONTROL ? id : -1;
  }

  private void checkId(int id) {
    if (id < 0 || id >= vocabulary.size()) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of "
          + location + " (0.." + (vocabulary.size() - 1) + ")");
    }
  }
}
