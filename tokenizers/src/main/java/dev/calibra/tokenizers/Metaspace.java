package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The Metaspace pre-tokenizer and decoder (SentencePiece's conventions in tokenizer.json):
 * spaces become a visible replacement character, '▁', and one is put in front of the text.
 */
final class Metaspace {

  /** Where a '▁' is put in front: every piece, only the text's first, or nowhere. */
  enum PrependScheme { ALWAYS, FIRST, NEVER }

  private final String replacement;
  private final Pattern replacementPattern;
  private final PrependScheme prependScheme;
  private final boolean splitWords;

  private Metaspace(char replacement, PrependScheme prependScheme, boolean splitWords) {
    this.replacement = String.valueOf(replacement);
    this.replacementPattern = Pattern.compile(this.replacement, Pattern.LITERAL);
    this.prependScheme = prependScheme;
    this.splitWords = splitWords;
  }

  static Metaspace fromJson(JsonNode node, String location) {
    char replacement = TokenizerJson.character(node, "replacement", "Metaspace", location);
    PrependScheme scheme = switch (node.path("prepend_scheme").asText("always")) {
      case "always" -> PrependScheme.ALWAYS;
      case "first" -> PrependScheme.FIRST;
      case "never" -> PrependScheme.NEVER;
      default -> throw new TokenizerException(location + ": unknown Metaspace prepend_scheme '"
          + node.get("prepend_scheme").asText() + "'");
    };
    // Files written before prepend_scheme existed say add_prefix_space instead.
    if (!TokenizerJson.flag(node, "add_prefix_space", true)) {
      scheme = PrependScheme.NEVER;
    }
    return new Metaspace(replacement, scheme, TokenizerJson.flag(node, "split", true));
  }

  List<TextPiece> split(TextPiece piece) {
    if (piece.text().isEmpty()) {
      return List.of(); // the library adds no '▁' to empty text
    }
    String text = piece.text().replace(" ", replacement);
    boolean prepend = switch (prependScheme) {
      case ALWAYS -> true;
      case FIRST -> piece.atInputStart();
      case NEVER -> false;
    };
    if (prepend && !text.startsWith(replacement)) {
      text = replacement + text;
    }
    TextPiece replaced = new TextPiece(text, piece.atInputStart());
    return splitWords
        ? SplitBehavior.MERGED_WITH_NEXT.split(replaced, replacementPattern, false)
        : List.of(replaced);
  }

  /**
   * Turns replacement characters back into spaces; in the first token they are dropped, as
   * the library does, since the one in front was added by {@link #split}.
   */
  List<String> decode(List<String> tokens) {
    List<String> decoded = new ArrayList<>(tokens.size());
    for (String token : tokens) {
      boolean dropped = decoded.isEmpty() && prependScheme != PrependScheme.NEVER;
      decoded.add(token.replace(replacement, dropped ? "" : " "));
    }
    return decoded;
  }
}
