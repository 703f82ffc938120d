package dev.calibra.tokenizers;

import java.nio.file.Path;

/**
 * Text to token ids and back, for one model's vocabulary.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

  /** The ids of {@code text}; no BOS or EOS is added. */
  int[] encode(String text);

  /** The text of {@code ids}; control and special tokens (BOS, EOS) produce no text. */
  String decode(int[] ids);

  /** One more than the largest id this tokenizer can produce. */
  int vocabSize();

  /** The beginning-of-sequence id, or -1 when the tokenizer has none. */
  int bosId();

  /** The end-of-sequence id, or -1 when the tokenizer has none. */
  int eosId();

  /**
   * Loads a model directory's tokenizer, or a tokenizer file. In a directory,
   * {@code tokenizer.model} (SentencePiece, the original for Llama 2-era models) is preferred
   * over {@code tokenizer.json} (Hugging Face); a file is recognized by its content.
   *
   * @throws TokenizerException when there is no tokenizer, or it is unreadable, corrupt or of
   *     an unsupported kind
   */
  static Tokenizer load(Path modelDirectoryOrFile) {
    return TokenizerLoader.load(modelDirectoryOrFile);
  }

  /**
   * Reads a tokenizer from the bytes of a {@code tokenizer.model} or {@code tokenizer.json},
   * recognized by their content.
   *
   * @param location where the bytes came from, for error messages
   * @throws TokenizerException when they are corrupt or of an unsupported kind
   */
  static Tokenizer fromBytes(byte[] content, String location) {
    return TokenizerLoader.fromBytes(content, location);
  }
}
