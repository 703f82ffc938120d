package dev.calibra.tokenizers;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a text file into the token stream of a perplexity protocol: either paragraph by
 * paragraph, each after a BOS, or the whole text as one string without BOS (WikiText-2).
 */
public final class TextCorpus {

  private static final String PARAGRAPH_SEPARATOR = "\n\n";

  private TextCorpus() {}

  /**
   * The text split on the exact two-character sequence "\n\n", without the pieces that are
   * only whitespace; the others are kept as they are, unstripped.
   */
  public static List<String> paragraphs(String text) {
    List<String> paragraphs = new ArrayList<>();
    int start = 0;
    while (start <= text.length()) {
      int end = text.indexOf(PARAGRAPH_SEPARATOR, start);
      if (end < 0) {
        end = text.length();
      }
      String piece = text.substring(start, end);
      if (!isWhitespace(piece)) {
        paragraphs.add(piece);
      }
      start = end + PARAGRAPH_SEPARATOR.length();
    }
    return paragraphs;
  }

  /**
   * Each of the text's {@link #paragraphs} encoded on its own with BOS in front, concatenated.
   *
   * @throws IllegalArgumentException when the tokenizer has no BOS
   */
  public static int[] encodeParagraphs(Tokenizer tokenizer, String text) {
    if (tokenizer.bosId() < 0) {
      throw new IllegalArgumentException(tokenizer + " has no BOS token to put before paragraphs");
    }
    IntArrayBuilder ids = new IntArrayBuilder();
    for (String paragraph : paragraphs(text)) {
      ids.add(tokenizer.bosId());
      ids.addAll(tokenizer.encode(paragraph));
    }
    return ids.toArray();
  }

  /** The whole text encoded as one string, without BOS. */
  public static int[] encodeWhole(Tokenizer tokenizer, String text) {
    return tokenizer.encode(text);
  }

  /** Python's str.isspace() sense, which counts no-break spaces too. */
  private static boolean isWhitespace(String text) {
    return text.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c));
  }
}
