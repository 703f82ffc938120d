package dev.calibra.tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds a model's tokenizer file and picks the implementation that reads it. */
final class TokenizerLoader {

  static final String SENTENCEPIECE_FILE = "tokenizer.model";
  static final String HUGGING_FACE_FILE = "tokenizer.json";

  private TokenizerLoader() {}

  static Tokenizer load(Path path) {
    if (Files.isDirectory(path)) {
      Path sentencePiece = path.resolve(SENTENCEPIECE_FILE);
      if (Files.isRegularFile(sentencePiece)) {
        return SentencePieceTokenizer.load(sentencePiece);
      }
      Path huggingFace = path.resolve(HUGGING_FACE_FILE);
      if (Files.isRegularFile(huggingFace)) {
        return HuggingFaceTokenizer.load(huggingFace);
      }
      throw new TokenizerException("no " + SENTENCEPIECE_FILE + " or " + HUGGING_FACE_FILE
          + " in " + path);
    }
    byte[] content = readFile(path);
    return isJson(content)
        ? HuggingFaceTokenizer.load(path)
        : SentencePieceTokenizer.fromBytes(content, path.toString());
  }

  static Tokenizer fromBytes(byte[] content, String location) {
    return isJson(content)
        ? HuggingFaceTokenizer.fromJson(content, location)
        : SentencePieceTokenizer.fromBytes(content, location);
  }

  static byte[] readFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new TokenizerException("tokenizer file not found: " + file);
    }
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new TokenizerException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A tokenizer.json is an object; a SentencePiece model starts with a protobuf field key
   * (0x0A for its first piece), never with '{' after optional whitespace.
   */
  private static boolean isJson(byte[] content) {
    int i = startsWithByteOrderMark(content) ? 3 : 0;
    while (i < content.length && Character.isWhitespace(content[i])) {
      i++;
    }
    return i < content.length && content[i] == '{';
  }

  private static boolean startsWithByteOrderMark(byte[] content) {
    return content.length >= 3 && (content[0] & 0xFF) == 0xEF && (content[1] & 0xFF) == 0xBB
        && (content[2] & 0xFF) == 0xBF;
  }
}
