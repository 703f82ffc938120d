package dev.calibra.tokenizers;

import dev.calibra.tokenizers.SentencePieceModel.NormalizerSpec;

/**
 * SentencePiece's text normalization for models with identity rules (Llama, Mistral): spaces
 * become '▁' so that they can live inside pieces, a '▁' is put in front so that a text's first
 * word is segmented like every other word, and runs of spaces are squeezed when the model asks.
 */
final class SentencePieceNormalizer {

  static final char SPACE_SYMBOL = '\u2581';

  private final boolean addDummyPrefix;
  private final boolean removeExtraWhitespaces;
  private final char space;

  SentencePieceNormalizer(NormalizerSpec spec) {
    this.addDummyPrefix = spec.addDummyPrefix();
    this.removeExtraWhitespaces = spec.removeExtraWhitespaces();
    this.space = spec.escapeWhitespaces() ? SPACE_SYMBOL : ' ';
  }

  String normalize(String text) {
    int start = 0;
    if (removeExtraWhitespaces) {
      while (start < text.length() && text.charAt(start) == ' ') {
        start++;
      }
    }
    // The library adds no dummy prefix to a text that is empty (or only spaces it removes).
    if (start == text.length()) {
      return "";
    }
    StringBuilder normalized = new StringBuilder(text.length() + 1);
    if (addDummyPrefix) {
      normalized.append(space);
    }
    boolean previousWasSpace = removeExtraWhitespaces;
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != ' ') {
        normalized.append(c);
        previousWasSpace = false;
      } else if (!previousWasSpace) {
        normalized.append(space);
        previousWasSpace = removeExtraWhitespaces;
      }
    }
    if (removeExtraWhitespaces) {
      int end = normalized.length();
      while (end > 0 && normalized.charAt(end - 1) == space) {
        end--;
      }
      normalized.setLength(end);
    }
    return normalized.toString();
  }
}
