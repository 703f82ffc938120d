package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The "added_tokens" of a tokenizer.json (special tokens such as {@code <s>} or
 * {@code <|endoftext|>}, and any other added token): they are cut out of the text before the
 * model sees it. Tokens marked "normalized" are looked for in the normalized text, in their
 * normalized form; the others in the raw text.
 */
final class AddedTokens {

  /** An added token as stored in tokenizer.json. */
  record AddedToken(int id, String content, boolean singleWord, boolean stripLeft,
      boolean stripRight, boolean normalized, boolean special) {}

  private final AddedTokenMatcher rawMatcher;
  private final AddedTokenMatcher normalizedMatcher;
  /** The text that decoding gives each added token's id. */
  private final Map<Integer, String> textById = new HashMap<>();
  private final Map<String, Integer> idByContent = new HashMap<>();
  private final Set<String> specialContents = new HashSet<>();
  private final int maxId;

  private AddedTokens(List<AddedToken> tokens, TextNormalizer normalizer) {
    Map<String, AddedToken> raw = new HashMap<>();
    Map<String, AddedToken> normalized = new HashMap<>();
    int max = -1;
    for (AddedToken token : tokens) {
      String pattern = token.normalized() ? normalizer.normalize(token.content()) : token.content();
      (token.normalized() ? normalized : raw).put(pattern, token);
      textById.put(token.id(), pattern);
      idByContent.put(token.content(), token.id());
      if (token.special()) {
        specialContents.add(token.content());
      }
      max = Math.max(max, token.id());
    }
    this.rawMatcher = new AddedTokenMatcher(raw);
    this.normalizedMatcher = new AddedTokenMatcher(normalized);
    this.maxId = max;
  }

  static AddedTokens fromJson(JsonNode array, TextNormalizer normalizer, String location) {
    List<AddedToken> tokens = new ArrayList<>();
    if (array != null && !array.isNull()) {
      for (JsonNode entry : array) {
        String content = TokenizerJson.text(entry, "content", "added token", location);
        if (!entry.path("id").canConvertToInt() || entry.get("id").asInt() < 0) {
          throw new TokenizerException(location + ": added token '" + content
              + "' has no valid id");
        }
        // The library ignores empty added tokens.
        if (!content.isEmpty()) {
          tokens.add(new AddedToken(entry.get("id").asInt(), content,
              TokenizerJson.flag(entry, "single_word", false),
              TokenizerJson.flag(entry, "lstrip", false),
              TokenizerJson.flag(entry, "rstrip", false),
              TokenizerJson.flag(entry, "normalized", true),
              TokenizerJson.flag(entry, "special", false)));
        }
      }
    }
    return new AddedTokens(tokens, normalizer);
  }

  /** Cuts the tokens looked for in raw text out of the text to encode. */
  List<AddedTokenMatcher.Segment> splitRaw(String text) {
    return rawMatcher.split(text, true);
  }

  /** Cuts the normalized tokens out of one normalized segment. */
  List<AddedTokenMatcher.Segment> splitNormalized(String text, boolean atInputStart) {
    return normalizedMatcher.split(text, atInputStart);
  }

  /** The text of an added token's id (its normalized form if it is normalized), or null. */
  String text(int id) {
    return textById.get(id);
  }

  /** Whether decoding leaves this token out: the library compares by text, not by id. */
  boolean isSpecial(String token) {
    return specialContents.contains(token);
  }

  /** The id of an added token's content, or -1. */
  int idOf(String content) {
    return idByContent.getOrDefault(content, -1);
  }

  /** The largest added token id, or -1 when there are none. */
  int maxId() {
    return maxId;
  }
}
