package dev.calibra.tokenizers;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a split keeps of the pattern's matches (the library's SplitDelimiterBehavior): drop
 * them, keep them as pieces of their own, glue them to the piece before or after, or glue
 * consecutive matches together.
 */
enum SplitBehavior {
  REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

  static SplitBehavior fromJson(String name, String location) {
    return switch (name) {
      case "Removed" -> REMOVED;
      case "Isolated" -> ISOLATED;
      case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
      case "MergedWithNext" -> MERGED_WITH_NEXT;
      case "Contiguous" -> CONTIGUOUS;
      default -> throw new TokenizerException(location + ": unknown split behavior '" + name + "'");
    };
  }

  /**
   * Splits a piece around the matches of {@code pattern} (around what does not match, when
   * {@code invert}); empty pieces are left out.
   */
  List<TextPiece> split(TextPiece piece, Pattern pattern, boolean invert) {
    List<Span> spans = new ArrayList<>();
    for (Span span : matchSpans(piece.text(), pattern, invert)) {
      Span last = spans.isEmpty() ? null : spans.get(spans.size() - 1);
      boolean glue = last != null && switch (this) {
        case REMOVED, ISOLATED -> false;
        case MERGED_WITH_PREVIOUS -> span.isMatch() && !last.isMatch();
        case MERGED_WITH_NEXT -> !span.isMatch() && last.isMatch();
        case CONTIGUOUS -> span.isMatch() == last.isMatch();
      };
      if (glue) {
        spans.set(spans.size() - 1, new Span(last.start(), span.end(), span.isMatch()));
      } else {
        spans.add(span);
      }
    }
    List<TextPiece> pieces = new ArrayList<>(spans.size());
    for (Span span : spans) {
      boolean removed = this == REMOVED && span.isMatch();
      if (!removed && span.end() > span.start()) {
        pieces.add(new TextPiece(piece.text().substring(span.start(), span.end()),
            piece.atInputStart() && span.start() == 0));
      }
    }
    return pieces;
  }

  /**
   * A stretch of the text; after gluing, {@code isMatch} is that of its last part, which is
   * what the library compares the next part with.
   */
  private record Span(int start, int end, boolean isMatch) {}

  /** Spans that cover the whole text in order: every match, and every stretch between them. */
  private static List<Span> matchSpans(String text, Pattern pattern, boolean invert) {
    List<Span> spans = new ArrayList<>();
    Matcher matcher = pattern.matcher(text);
    int previousEnd = 0;
    while (matcher.find()) {
      if (matcher.start() > previousEnd) {
        spans.add(new Span(previousEnd, matcher.start(), invert));
      }
      spans.add(new Span(matcher.start(), matcher.end(), !invert));
      previousEnd = matcher.end();
    }
    if (previousEnd < text.length()) {
      spans.add(new Span(previousEnd, text.length(), invert));
    }
    return spans;
  }
}
